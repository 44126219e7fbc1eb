package logsender

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// API is the part of the controller API the sender uses.
type API interface {
	SendLogs(ctx context.Context, req *apipb.SendLogsRequest, opts ...grpc.CallOption) (*apipb.SendLogsResult, error)
}

// Config configures the sender. Records carry no entity: the controller
// stamps the caller's.
type Config struct {
	API    API
	Buffer *Buffer
	// BatchSize is the most records per SendLogs call; zero means 100.
	BatchSize int
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.API == nil || c.Buffer == nil {
		return errors.New("logsender: API and Buffer are required")
	}
	return nil
}

// Run sends the buffer's records until ctx is done (nil) or a call fails
// (its error; the records stay buffered for the next run).
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	size := cfg.BatchSize
	if size <= 0 {
		size = 100
	}
	for {
		b := cfg.Buffer.Take(size)
		if len(b.Records) == 0 && b.Dropped == 0 {
			select {
			case <-cfg.Buffer.Ready():
				continue
			case <-ctx.Done():
				return nil
			}
		}
		if _, err := cfg.API.SendLogs(ctx, &apipb.SendLogsRequest{Records: b.Records, Dropped: b.Dropped}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("cannot send %d log records: %w", len(b.Records), err)
		}
		cfg.Buffer.Ack(b)
	}
}
