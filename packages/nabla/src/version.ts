// The package version. A test holds it equal to package.json and to the Rust crates,
// and init() refuses a .wasm built from another version.
export const VERSION = "0.1.0";
