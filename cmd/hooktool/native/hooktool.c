/*
 * hooktool (native): the hook tool client that `make build` ships.
 *
 * It is the same client as ../main.go, written against libc alone and
 * linked statically, because it starts on every hook tool call: a Go
 * program spends more starting its runtime (threads, signal handlers,
 * heap) than this whole call takes, which put the Go client at 2.2-2.8x
 * an exec of /bin/true against a budget of 2.5x (issue 5). The Go client
 * stays the reference (`make build HOOKTOOL=go` ships it instead) and
 * internal/hooktool's tests run both against the real server, case for
 * case, so the two cannot drift.
 *
 * Behaviour, which both must keep:
 *   - dispatch on the name it was run as (a symlink per tool in the unit's
 *     tools dir), or on its first argument when run as "hooktool"/"jujuc";
 *   - JUJU_CONTEXT_ID and JUJU_AGENT_SOCKET_ADDRESS required, a network
 *     other than unix refused;
 *   - the working directory is $PWD when that names ".", else getcwd;
 *   - one request frame (internal/hooktool/wire: big-endian length, kind
 *     'Q', flags, length-prefixed strings); stdin is read and the request
 *     resent only when the response asks for it (flag NeedStdin);
 *   - stdout, then stderr written back, the tool's exit code returned;
 *     errors of the client itself are "ERROR <msg>" on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* MAX_MESSAGE is wire.MaxMessageSize. */
#define MAX_MESSAGE (64u << 20)

enum { KIND_REQUEST = 'Q', KIND_RESPONSE = 'R', FLAG_STDIN = 1, FLAG_NEED_STDIN = 1 };

/* errtext is strerror with Go's spelling: the first letter in lower case
 * ("connection refused"), so both clients print the same messages. */
static const char *errtext(int e) {
	static char buf[128];
	const char *s = strerror(e);
	size_t n = strlen(s);
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] += 'a' - 'A';
	return buf;
}

/* retry says whether a failed read or write should be tried again: on
 * EINTR at once, on EAGAIN (a non-blocking descriptor inherited from the
 * parent) after a millisecond. */
static int retry(void) {
	if (errno == EINTR)
		return 1;
	if (errno == EAGAIN) {
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
		return 1;
	}
	return 0;
}

/* write_all writes everything, with retry's retries. */
static int write_all(int fd, const void *p, size_t n) {
	const char *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (retry())
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* read_some is read(2) with retry's retries; 0 is end of file. */
static ssize_t read_some(int fd, void *p, size_t n) {
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r >= 0)
			return r;
		if (!retry())
			return -1;
	}
}

static void puts_fd(int fd, const char *s) { (void)write_all(fd, s, strlen(s)); }

/* fail prints "ERROR " and the parts, then a newline, and returns 1. */
static int fail(const char *a, const char *b, const char *c, const char *d) {
	const char *parts[] = {"ERROR ", a, b, c, d, "\n"};
	size_t n = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i])
			n += strlen(parts[i]);
	char *msg = malloc(n + 1);
	if (!msg)
		return 1;
	msg[0] = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i])
			strcat(msg, parts[i]);
	puts_fd(2, msg);
	free(msg);
	return 1;
}

/* buf is a growable byte buffer. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static int buf_grow(struct buf *b, size_t extra) {
	if (b->len + extra <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void put_u32(unsigned char *p, uint32_t v) {
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p) {
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void append_field(struct buf *b, const void *s, size_t n) {
	put_u32(b->p + b->len, (uint32_t)n);
	if (n)
		memcpy(b->p + b->len + 4, s, n);
	b->len += 4 + n;
}

struct request {
	const char *context_id, *dir, *command;
	char **args;
	int nargs;
	int stdin_set;
	const unsigned char *stdin_data;
	size_t stdin_len;
};

/* encode_request builds one request frame in b; -1 when its body would
 * exceed MAX_MESSAGE or memory runs out. */
static int encode_request(struct buf *b, const struct request *r) {
	uint64_t size = 2 + 4 + strlen(r->context_id) + 4 + strlen(r->dir) + 4 + strlen(r->command) + 4;
	for (int i = 0; i < r->nargs; i++)
		size += 4 + strlen(r->args[i]);
	if (r->stdin_set)
		size += 4 + r->stdin_len;
	if (size > MAX_MESSAGE)
		return -1;
	b->len = 0;
	if (buf_grow(b, 4 + (size_t)size))
		return -1;
	put_u32(b->p, (uint32_t)size);
	b->p[4] = KIND_REQUEST;
	b->p[5] = r->stdin_set ? FLAG_STDIN : 0;
	b->len = 6;
	append_field(b, r->context_id, strlen(r->context_id));
	append_field(b, r->dir, strlen(r->dir));
	append_field(b, r->command, strlen(r->command));
	put_u32(b->p + b->len, (uint32_t)r->nargs);
	b->len += 4;
	for (int i = 0; i < r->nargs; i++)
		append_field(b, r->args[i], strlen(r->args[i]));
	if (r->stdin_set)
		append_field(b, r->stdin_data, r->stdin_len);
	return 0;
}

struct response {
	int code;
	int need_stdin;
	const unsigned char *out, *err;
	size_t out_len, err_len;
};

/* field reads one length-prefixed field at *p, bounded by end. */
static int field(const unsigned char **p, const unsigned char *end, const unsigned char **v, size_t *n) {
	if (end - *p < 4)
		return -1;
	uint32_t len = get_u32(*p);
	*p += 4;
	if ((uint64_t)len > (uint64_t)(end - *p))
		return -1;
	*v = *p;
	*n = len;
	*p += len;
	return 0;
}

/* decode_response parses a response body as wire.ParseResponse does. */
static int decode_response(const unsigned char *body, size_t n, struct response *r) {
	const unsigned char *p = body, *end = body + n;
	if (n < 2 || p[0] != KIND_RESPONSE || (p[1] & ~FLAG_NEED_STDIN) != 0)
		return -1;
	r->need_stdin = p[1] & FLAG_NEED_STDIN;
	p += 2;
	if (end - p < 4)
		return -1;
	r->code = (int)(int32_t)get_u32(p);
	p += 4;
	if (field(&p, end, &r->out, &r->out_len) || field(&p, end, &r->err, &r->err_len))
		return -1;
	return p == end ? 0 : -1;
}

/* read_full fills n bytes; returns 0, or 1 at end of file before the
 * first byte, 2 at end of file inside, -1 on an error (errno). */
static int read_full(int fd, unsigned char *p, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read_some(fd, p + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0)
			return got == 0 ? 1 : 2;
		got += (size_t)r;
	}
	return 0;
}

/* send_request writes req's frame on fd and reads the response into body
 * (which resp then points into). On failure it prints the error and
 * returns 1. */
static int send_request(int fd, const struct request *req, struct buf *frame, struct buf *body, struct response *resp) {
	if (encode_request(frame, req))
		return fail("cannot send request: wire: message too large", NULL, NULL, NULL);
	if (write_all(fd, frame->p, frame->len))
		return fail("cannot send request: ", errtext(errno), NULL, NULL);
	unsigned char hdr[4];
	int r = read_full(fd, hdr, 4);
	if (r == -1)
		return fail("cannot read response: ", errtext(errno), NULL, NULL);
	if (r != 0)
		return fail("cannot read response: unexpected EOF", NULL, NULL, NULL);
	if (hdr[0] == '{')
		return fail("cannot read response: wire: JSON-framed message from an older hook tool client; install the hooktool built with this agent", NULL, NULL, NULL);
	uint32_t n = get_u32(hdr);
	if (n > MAX_MESSAGE)
		return fail("cannot read response: wire: message too large", NULL, NULL, NULL);
	body->len = 0;
	if (buf_grow(body, n ? n : 1))
		return fail("cannot read response: out of memory", NULL, NULL, NULL);
	r = read_full(fd, body->p, n);
	if (r == -1)
		return fail("cannot read response: ", errtext(errno), NULL, NULL);
	if (r != 0)
		return fail("cannot read response: unexpected EOF", NULL, NULL, NULL);
	body->len = n;
	if (decode_response(body->p, n, resp))
		return fail("cannot read response: wire: malformed message", NULL, NULL, NULL);
	return 0;
}

/* read_stdin reads all of stdin, up to MAX_MESSAGE bytes. */
static int read_stdin(struct buf *b) {
	b->len = 0;
	for (;;) {
		if (b->len >= MAX_MESSAGE)
			return 0;
		if (buf_grow(b, 64 << 10))
			return -1;
		size_t room = b->cap - b->len;
		if (room > MAX_MESSAGE - b->len)
			room = MAX_MESSAGE - b->len;
		ssize_t r = read_some(0, b->p + b->len, room);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		b->len += (size_t)r;
	}
}

/* base is the last element of a slash-separated path. */
static const char *base(char *path) {
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = 0;
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* working_dir is $PWD when that names the current directory (keeping the
 * hook's view through symlinks), else the kernel's path. */
static char *working_dir(void) {
	const char *pwd = getenv("PWD");
	if (pwd && pwd[0] == '/') {
		struct stat dot, p;
		if (stat(".", &dot) == 0 && stat(pwd, &p) == 0 && dot.st_dev == p.st_dev && dot.st_ino == p.st_ino)
			return strdup(pwd);
	}
	return getcwd(NULL, 0);
}

static int run(int argc, char **argv) {
	if (argc < 1)
		return fail("cannot read arguments: argv is empty", NULL, NULL, NULL);
	const char *name = base(argv[0]);
	char **args = argv + 1;
	int nargs = argc - 1;
	if (strcmp(name, "hooktool") == 0 || strcmp(name, "jujuc") == 0) {
		if (nargs == 0) {
			puts_fd(2, "usage: hooktool <tool> [args...]\n");
			return 2;
		}
		name = args[0];
		args++;
		nargs--;
	}
	const char *context_id = getenv("JUJU_CONTEXT_ID");
	if (!context_id || !*context_id)
		return fail("JUJU_CONTEXT_ID not set", NULL, NULL, NULL);
	const char *address = getenv("JUJU_AGENT_SOCKET_ADDRESS");
	if (!address || !*address)
		return fail("JUJU_AGENT_SOCKET_ADDRESS not set", NULL, NULL, NULL);
	const char *network = getenv("JUJU_AGENT_SOCKET_NETWORK");
	if (network && *network && strcmp(network, "unix") != 0)
		return fail("JUJU_AGENT_SOCKET_NETWORK ", network, " is not supported: Troupe serves hook tools on a unix socket only", NULL);
	char *dir = working_dir();
	if (!dir)
		return fail("cannot get working directory: ", errtext(errno), NULL, NULL);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("cannot connect to unit agent: cannot create socket: ", errtext(errno), NULL, NULL);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(address) >= sizeof sa.sun_path)
		return fail("cannot connect to unit agent at ", address, ": ", errtext(EINVAL));
	strcpy(sa.sun_path, address);
	int rc;
	do
		rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return fail("cannot connect to unit agent at ", address, ": ", errtext(errno));

	struct request req = {.context_id = context_id, .dir = dir, .command = name, .args = args, .nargs = nargs};
	struct buf frame = {0}, body = {0}, in = {0};
	struct response resp;
	if (send_request(fd, &req, &frame, &body, &resp))
		return 1;
	if (resp.need_stdin) {
		if (read_stdin(&in))
			return fail("cannot read stdin: ", errtext(errno), NULL, NULL);
		req.stdin_set = 1;
		req.stdin_data = in.p;
		req.stdin_len = in.len;
		if (send_request(fd, &req, &frame, &body, &resp))
			return 1;
		if (resp.need_stdin)
			return fail("cannot run ", name, ": server asked for stdin twice", NULL);
	}
	close(fd);
	/* Like any tool, a closed stdout or stderr does not change the exit
	 * code. */
	(void)write_all(1, resp.out, resp.out_len);
	(void)write_all(2, resp.err, resp.err_len);
	return resp.code;
}

int main(int argc, char **argv) {
	/* A closed stdout must not kill the tool before it reports. */
	signal(SIGPIPE, SIG_IGN);
	_exit(run(argc, argv));
}
