package entity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// Access is a user's access level to a model, as Juju's: read < write <
// admin. The empty Access is none.
type Access string

// The model access levels.
const (
	AccessNone  Access = ""
	AccessRead  Access = "read"
	AccessWrite Access = "write"
	AccessAdmin Access = "admin"
)

// ParseAccess parses a model access level.
func ParseAccess(s string) (Access, error) {
	switch a := Access(s); a {
	case AccessRead, AccessWrite, AccessAdmin:
		return a, nil
	}
	return AccessNone, fmt.Errorf("invalid model access level %q: expected read, write or admin", s)
}

func (a Access) rank() int {
	switch a {
	case AccessRead:
		return 1
	case AccessWrite:
		return 2
	case AccessAdmin:
		return 3
	}
	return 0
}

// Includes reports whether a grants at least want.
func (a Access) Includes(want Access) bool { return a.rank() >= want.rank() }

// Lower is the level one below a (Juju's revoke: revoking write leaves
// read, revoking read leaves nothing).
func (a Access) Lower() Access {
	switch a {
	case AccessAdmin:
		return AccessWrite
	case AccessWrite:
		return AccessRead
	}
	return AccessNone
}

// ModelAccess is u's access to the model with this UUID; a superuser has
// admin on every model.
func (u User) ModelAccess(uuid string) Access {
	if u.Superuser {
		return AccessAdmin
	}
	return u.Access[uuid]
}

// User passwords are salted scrypt hashes:
// "scrypt:<N>:<r>:<p>:<salt b64>:<key b64>".
const scryptPrefix = "scrypt:"

const (
	scryptN      = 1 << 15
	scryptR      = 8
	scryptP      = 1
	scryptKeyLen = 32
)

// HashUserPassword hashes a human-chosen password with a random salt and
// a slow KDF (scrypt N=2^15, r=8, p=1).
func HashUserPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key, err := scrypt.Key([]byte(password), salt, scryptN, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		panic(err) // only for invalid parameters, which are constants
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s%d:%d:%d:%s:%s", scryptPrefix, scryptN, scryptR, scryptP, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func checkUserPassword(hash, password string) bool {
	parts := strings.Split(strings.TrimPrefix(hash, scryptPrefix), ":")
	if len(parts) != 5 {
		return false
	}
	n, err1 := strconv.Atoi(parts[0])
	r, err2 := strconv.Atoi(parts[1])
	p, err3 := strconv.Atoi(parts[2])
	enc := base64.RawStdEncoding
	salt, err4 := enc.DecodeString(parts[3])
	want, err5 := enc.DecodeString(parts[4])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || n > 1<<20 || r > 32 || p > 16 || len(want) == 0 {
		return false
	}
	got, err := scrypt.Key([]byte(password), salt, n, r, p, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
