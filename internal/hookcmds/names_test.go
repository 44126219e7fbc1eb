package hookcmds_test

import "github.com/troupe-dev/troupe/internal/hooktool"

func hooktoolNames() []string { return hooktool.ToolNames }
