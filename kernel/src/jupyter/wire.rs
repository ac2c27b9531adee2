//! The Jupyter wire format: the one module that knows how a message becomes ZeroMQ frames
//! and back, and how frames are signed (HMAC-SHA256) and verified.
//!
//! Frames of one message: `[identities..., "<IDS|MSG>", signature, header, parent_header,
//! metadata, content, buffers...]`. The signature is the lower-case hex HMAC of the four JSON
//! frames in that order; an empty key means "no signing" and an empty signature.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::Sha256;
use std::fmt;

/// The protocol version this kernel speaks; put into every header it sends.
pub const PROTOCOL_VERSION: &str = "5.3";
const DELIMITER: &[u8] = b"<IDS|MSG>";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub msg_id: String,
    pub session: String,
    // Lenient on input: some clients omit these; we always send them.
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub date: String,
    pub msg_type: String,
    #[serde(default)]
    pub version: String,
}

impl Header {
    pub fn new(session: &str, msg_type: &str) -> Header {
        Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            session: session.to_string(),
            username: "kernel".to_string(),
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            msg_type: msg_type.to_string(),
            version: PROTOCOL_VERSION.to_string(),
        }
    }
}

/// One message, decoded. `parent_header` is `None` where the wire has `{}`.
#[derive(Clone, Debug)]
pub struct Message {
    /// ROUTER identities on shell/control; the topic on iopub.
    pub identities: Vec<Vec<u8>>,
    pub header: Header,
    pub parent_header: Option<Header>,
    pub metadata: Map<String, Json>,
    pub content: Json,
    pub buffers: Vec<Vec<u8>>,
}

#[derive(Debug, PartialEq)]
pub enum WireError {
    NoDelimiter,
    TooFewFrames,
    BadSignature,
    BadJson(&'static str, String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::NoDelimiter => write!(f, "no <IDS|MSG> delimiter"),
            WireError::TooFewFrames => write!(f, "fewer than 5 frames after the delimiter"),
            WireError::BadSignature => write!(f, "bad signature"),
            WireError::BadJson(part, e) => write!(f, "malformed {part}: {e}"),
        }
    }
}

/// Signs and verifies with the connection file's key.
#[derive(Clone)]
pub struct Signer {
    mac: Option<Hmac<Sha256>>,
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer {
            mac: if key.is_empty() {
                None
            } else {
                Some(Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length"))
            },
        }
    }

    fn mac_of(&self, parts: &[&[u8]]) -> Option<Hmac<Sha256>> {
        let mut mac = self.mac.clone()?;
        for p in parts {
            mac.update(p);
        }
        Some(mac)
    }

    pub fn sign(&self, parts: &[&[u8]]) -> String {
        match self.mac_of(parts) {
            Some(mac) => hex::encode(mac.finalize().into_bytes()),
            None => String::new(),
        }
    }

    /// Constant-time check (hmac's `verify_slice`) so a forger learns nothing from timing.
    pub fn verify(&self, signature: &[u8], parts: &[&[u8]]) -> bool {
        match self.mac_of(parts) {
            None => true,
            Some(mac) => match hex::decode(signature) {
                Ok(sig) => mac.verify_slice(&sig).is_ok(),
                Err(_) => false,
            },
        }
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    part: &'static str,
    bytes: &[u8],
) -> Result<T, WireError> {
    serde_json::from_slice(bytes).map_err(|e| WireError::BadJson(part, e.to_string()))
}

impl Message {
    /// A message with no parent (e.g. `iopub_welcome`, the `starting` status).
    pub fn new(session: &str, msg_type: &str, content: Json) -> Message {
        Message {
            identities: Vec::new(),
            header: Header::new(session, msg_type),
            parent_header: None,
            metadata: Map::new(),
            content,
            buffers: Vec::new(),
        }
    }

    /// A reply to `self` from the kernel session `session`: same routing identities,
    /// `self`'s header as parent.
    pub fn reply(&self, session: &str, msg_type: &str, content: Json) -> Message {
        Message {
            identities: self.identities.clone(),
            header: Header::new(session, msg_type),
            parent_header: Some(self.header.clone()),
            metadata: Map::new(),
            content,
            buffers: Vec::new(),
        }
    }

    pub fn msg_type(&self) -> &str {
        &self.header.msg_type
    }

    /// Decode and verify; the signature is checked before any JSON is parsed.
    pub fn from_frames(frames: Vec<Vec<u8>>, signer: &Signer) -> Result<Message, WireError> {
        let delim = frames
            .iter()
            .position(|f| f == DELIMITER)
            .ok_or(WireError::NoDelimiter)?;
        let mut rest = frames;
        let after = rest.split_off(delim + 1);
        rest.pop(); // the delimiter
        let identities = rest;
        if after.len() < 5 {
            return Err(WireError::TooFewFrames);
        }
        let mut it = after.into_iter();
        let sig = it.next().unwrap();
        let header = it.next().unwrap();
        let parent = it.next().unwrap();
        let metadata = it.next().unwrap();
        let content = it.next().unwrap();
        let buffers: Vec<Vec<u8>> = it.collect();
        if !signer.verify(&sig, &[&header, &parent, &metadata, &content]) {
            return Err(WireError::BadSignature);
        }
        let header: Header = parse_json("header", &header)?;
        let parent_json: Map<String, Json> = parse_json("parent_header", &parent)?;
        let parent_header = if parent_json.is_empty() {
            None
        } else {
            Some(
                serde_json::from_value(Json::Object(parent_json))
                    .map_err(|e| WireError::BadJson("parent_header", e.to_string()))?,
            )
        };
        let metadata: Map<String, Json> = parse_json("metadata", &metadata)?;
        let content: Json = parse_json("content", &content)?;
        if !content.is_object() {
            return Err(WireError::BadJson("content", "not an object".into()));
        }
        Ok(Message {
            identities,
            header,
            parent_header,
            metadata,
            content,
            buffers,
        })
    }

    pub fn to_frames(&self, signer: &Signer) -> Vec<Vec<u8>> {
        let header = serde_json::to_vec(&self.header).expect("header serializes");
        let parent = match &self.parent_header {
            Some(p) => serde_json::to_vec(p).expect("header serializes"),
            None => b"{}".to_vec(),
        };
        let metadata = serde_json::to_vec(&self.metadata).expect("map serializes");
        let content = serde_json::to_vec(&self.content).expect("json serializes");
        let sig = signer.sign(&[&header, &parent, &metadata, &content]);
        let mut frames = self.identities.clone();
        frames.push(DELIMITER.to_vec());
        frames.push(sig.into_bytes());
        frames.push(header);
        frames.push(parent);
        frames.push(metadata);
        frames.push(content);
        frames.extend(self.buffers.iter().cloned());
        frames
    }
}

// ---- Typed request contents. Defaults follow the protocol's documented defaults. ----

fn yes() -> bool {
    true
}

#[derive(Deserialize, Debug)]
pub struct ExecuteRequest {
    pub code: String,
    #[serde(default)]
    pub silent: bool,
    #[serde(default = "yes")]
    pub store_history: bool,
    #[serde(default)]
    pub user_expressions: Option<Map<String, Json>>,
    #[serde(default = "yes")]
    pub stop_on_error: bool,
}

#[derive(Deserialize, Debug)]
pub struct CodeCursor {
    pub code: String,
    /// In Unicode code points (protocol ≥ 5.2), not bytes.
    pub cursor_pos: Option<usize>,
}

#[derive(Deserialize, Debug)]
pub struct IsCompleteRequest {
    pub code: String,
}

#[derive(Deserialize, Debug)]
pub struct HistoryRequest {
    #[serde(default)]
    pub output: bool,
    pub hist_access_type: String,
    #[serde(default)]
    pub session: Option<i64>,
    #[serde(default)]
    pub start: Option<i64>,
    #[serde(default)]
    pub stop: Option<i64>,
    #[serde(default)]
    pub n: Option<i64>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub unique: bool,
}

#[derive(Deserialize, Debug)]
pub struct ShutdownRequest {
    #[serde(default)]
    pub restart: bool,
}

/// Decode a request's content into its typed form.
pub fn content<T: for<'de> Deserialize<'de>>(msg: &Message) -> Result<T, WireError> {
    serde_json::from_value(msg.content.clone())
        .map_err(|e| WireError::BadJson("content", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Message {
        let mut m = Message::new("sess", "execute_request", json!({"code": "1 + 1"}));
        m.identities = vec![b"client-id".to_vec()];
        m
    }

    #[test]
    fn round_trip_signed() {
        let s = Signer::new(b"secret");
        let m = sample();
        let frames = m.to_frames(&s);
        assert_eq!(frames[0], b"client-id");
        assert_eq!(frames[1], DELIMITER);
        assert_eq!(frames[2].len(), 64, "hex of a 32-byte MAC");
        let back = Message::from_frames(frames, &s).unwrap();
        assert_eq!(back.header, m.header);
        assert_eq!(back.identities, m.identities);
        assert!(back.parent_header.is_none());
        assert_eq!(back.content, json!({"code": "1 + 1"}));
    }

    #[test]
    fn a_float_survives_decode_and_encode() {
        // Found by the wire fuzz target: without serde_json's exact float parser, a long
        // decimal parsed one ulp off, and the value the kernel re-encoded then decoded to
        // a different number.
        let s = Signer::new(b"");
        let text = format!(
            "{{\"detail_level\": 1{}6148914691236517206}}",
            "0".repeat(54)
        );
        let mut m = sample();
        m.content = serde_json::from_str(&text).unwrap();
        let once = Message::from_frames(m.to_frames(&s), &s).unwrap();
        let twice = Message::from_frames(once.to_frames(&s), &s).unwrap();
        assert_eq!(once.content, m.content);
        assert_eq!(twice.content, m.content);
        assert_eq!(m.content["detail_level"].as_f64(), Some(1e73));
    }

    #[test]
    fn signature_matches_python_hmac() {
        // hmac.new(b"key", b"abcd", hashlib.sha256).hexdigest()
        let s = Signer::new(b"key");
        assert_eq!(
            s.sign(&[b"a", b"b", b"c", b"d"]),
            "2a31ec0ee8d878c9eece9fb0df79b3b90b2256240163aa5ee50d176d3d1121f8"
        );
        // The MAC covers the concatenation, not each part.
        assert_eq!(s.sign(&[b"ab", b"cd"]), s.sign(&[b"abcd"]));
    }

    #[test]
    fn bad_signature_rejected() {
        let s = Signer::new(b"secret");
        let mut frames = sample().to_frames(&s);
        frames[2] = "0".repeat(64).into_bytes();
        assert_eq!(
            Message::from_frames(frames, &s).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn tampered_content_rejected() {
        let s = Signer::new(b"secret");
        let mut frames = sample().to_frames(&s);
        let n = frames.len();
        frames[n - 1] = br#"{"code": "x = 999"}"#.to_vec();
        assert_eq!(
            Message::from_frames(frames, &s).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn wrong_key_and_non_hex_rejected() {
        let frames = sample().to_frames(&Signer::new(b"one"));
        assert_eq!(
            Message::from_frames(frames.clone(), &Signer::new(b"two")).unwrap_err(),
            WireError::BadSignature
        );
        let mut f2 = frames;
        f2[2] = b"not hex at all".to_vec();
        assert_eq!(
            Message::from_frames(f2, &Signer::new(b"one")).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn empty_key_means_no_signing() {
        let s = Signer::new(b"");
        let frames = sample().to_frames(&s);
        assert!(frames[2].is_empty());
        assert!(Message::from_frames(frames, &s).is_ok());
    }

    #[test]
    fn malformed_frames() {
        let s = Signer::new(b"");
        assert_eq!(
            Message::from_frames(vec![b"garbage".to_vec()], &s).unwrap_err(),
            WireError::NoDelimiter
        );
        assert_eq!(
            Message::from_frames(vec![DELIMITER.to_vec(), vec![], b"{}".to_vec()], &s).unwrap_err(),
            WireError::TooFewFrames
        );
        let bad_json = vec![
            DELIMITER.to_vec(),
            vec![],
            b"{not json".to_vec(),
            b"{}".to_vec(),
            b"{}".to_vec(),
            b"{}".to_vec(),
        ];
        assert!(matches!(
            Message::from_frames(bad_json, &s),
            Err(WireError::BadJson("header", _))
        ));
        let header_missing_fields = vec![
            DELIMITER.to_vec(),
            vec![],
            b"{}".to_vec(),
            b"{}".to_vec(),
            b"{}".to_vec(),
            b"{}".to_vec(),
        ];
        assert!(Message::from_frames(header_missing_fields, &s).is_err());
    }

    #[test]
    fn reply_has_parent_and_identities() {
        let s = Signer::new(b"k");
        let req = sample();
        let rep = req.reply("kernel-sess", "execute_reply", json!({"status": "ok"}));
        let frames = rep.to_frames(&s);
        let back = Message::from_frames(frames, &s).unwrap();
        assert_eq!(back.parent_header.unwrap().msg_id, req.header.msg_id);
        assert_eq!(back.identities, req.identities);
        assert_eq!(back.header.version, PROTOCOL_VERSION);
        assert!(back.header.date.ends_with('Z'));
    }

    #[test]
    fn execute_request_defaults() {
        let m = Message::new("s", "execute_request", json!({"code": "x"}));
        let r: ExecuteRequest = content(&m).unwrap();
        assert!(!r.silent && r.store_history && r.stop_on_error);
        assert!(r.user_expressions.is_none());
    }
}
