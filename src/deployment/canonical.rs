//! The canonical encoding of the deployment document: what a build holds and what a
//! container's spec hash is taken over.
//!
//! JSON with every object's keys in byte order, whatever order the structs declare their
//! fields in and whether or not some dependency turns on `serde_json`'s
//! `preserve_order` ([`super::sorted_json`]); fields at their default are already left
//! out by the types (`skip_serializing_if`), so a field added later with its default
//! changes nothing here.

use serde::Serialize;

use super::{Container, label, sorted_json};

/// Domain of the spec hash, so no other blake3 hash of ours can equal one.
const SPEC_DOMAIN: &[u8] = b"obsbuild-container-spec\0";

// The document's types hold only strings, numbers, maps with string keys and sequences,
// which always write; an empty encoding stands for the impossible rest.

/// The canonical bytes of `v`.
pub fn encode(v: &impl Serialize) -> Vec<u8> {
    sorted_json::write(v, false).unwrap_or_default()
}

/// The canonical text of `v`, indented for people reading a build.
pub(super) fn pretty(v: &impl Serialize) -> String {
    // JSON is UTF-8: serde_json writes only whole characters.
    String::from_utf8(sorted_json::write(v, true).unwrap_or_default()).unwrap_or_default()
}

/// The hash of a container's spec: what decides whether a running container still is what
/// the build wants. Without the labels obsbuild adds per generation and switch, which
/// change without the container changing.
pub fn spec_hash(container: &Container) -> String {
    let mut c = container.clone();
    for l in [label::GENERATION, label::SPEC, label::SWITCH, label::SECRETS] {
        c.labels.remove(l);
    }
    hash_spec(&c)
}

/// The spec hash of anything that encodes as a container does.
pub(super) fn hash_spec(spec: &impl Serialize) -> String {
    let mut h = blake3::Hasher::new();
    h.update(SPEC_DOMAIN);
    h.update(&encode(spec));
    h.finalize().to_hex()[..16].to_owned()
}
