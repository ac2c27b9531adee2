//! The Jupyter wire decoder on arbitrary frames, signed and unsigned: `Message::from_frames`
//! must answer every message with a `Message` or a `WireError`, never panic. A message that
//! decodes must also encode and decode again to the same header and content.
//!
//! The kernel crate is a binary only; its wire module is compiled in here by `#[path]` (it
//! depends on nothing else of the kernel), so fuzzing needs no library target in the kernel.
#![no_main]

#[allow(dead_code)]
#[path = "../../kernel/src/jupyter/wire.rs"]
mod wire;

use libfuzzer_sys::fuzz_target;
use wire::{Message, Signer};

const KEY: &[u8] = b"fuzz-key";
/// Frames are separated by this in an input, so the corpus holds readable messages.
pub const FRAME_SEPARATOR: &[u8] = b"\n\0\n";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut frames = split(rest);
    // Bit 0: verify with `KEY` (else with the empty key: no signing). Bit 1: sign the four
    // JSON frames correctly first, so the JSON parsers are reached past the signature check.
    let signer = Signer::new(if flags & 1 != 0 { KEY } else { b"" });
    if flags & 2 != 0 {
        if let Some(d) = frames.iter().position(|f| f == b"<IDS|MSG>") {
            if frames.len() >= d + 6 {
                let parts: Vec<&[u8]> = frames[d + 2..d + 6].iter().map(|f| f.as_slice()).collect();
                frames[d + 1] = signer.sign(&parts).into_bytes();
            }
        }
    }
    let Ok(message) = Message::from_frames(frames, &signer) else {
        return;
    };
    // The typed contents the shell decodes from each request.
    let _ = wire::content::<wire::ExecuteRequest>(&message);
    let _ = wire::content::<wire::CodeCursor>(&message);
    let _ = wire::content::<wire::IsCompleteRequest>(&message);
    let _ = wire::content::<wire::HistoryRequest>(&message);
    let _ = wire::content::<wire::ShutdownRequest>(&message);
    let reply = message.reply("fuzz", "status", serde_json::json!({}));
    let _ = reply.to_frames(&signer);
    let again = Message::from_frames(message.to_frames(&signer), &signer)
        .expect("a decoded message encodes into frames that decode");
    assert_eq!(again.header, message.header);
    assert_eq!(again.parent_header, message.parent_header);
    assert_eq!(again.content, message.content);
    assert_eq!(again.metadata, message.metadata);
    assert_eq!(again.identities, message.identities);
});

fn split(mut rest: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while let Some(k) = rest
        .windows(FRAME_SEPARATOR.len())
        .position(|w| w == FRAME_SEPARATOR)
    {
        frames.push(rest[..k].to_vec());
        rest = &rest[k + FRAME_SEPARATOR.len()..];
    }
    frames.push(rest.to_vec());
    frames
}
