// Package pluginreg gets plugins from where their authors publish them:
// OCI registries. It resolves a reference to the digest that pins it,
// pulls the module once into the cache and verifies it against that
// digest, pushes a module with the annotations that let `inspect` read
// what it asks for without running it, and signs and verifies
// signatures over the module's digest (Notary Project signatures, stored
// in the registry as OCI referrers of the plugin's manifest).
//
// The plugin runtime (host/plugin) never talks to a registry: the command
// resolves every oci:// entry of the plugins file to a verified module in
// the cache first, and the runtime loads it like a local file.
package pluginreg
