package plugin

// Caps on the files the runtime reads.
const (
	// MaxModuleBytes caps a plugin's .wasm file. The project's plugins are
	// a few megabytes; a path that names something far larger (or endless:
	// /dev/zero) is refused before it can fill the server's memory.
	MaxModuleBytes = 64 << 20
	// MaxConfigFileBytes caps the plugins file, which lists a handful of
	// entries.
	MaxConfigFileBytes = 1 << 20
)
