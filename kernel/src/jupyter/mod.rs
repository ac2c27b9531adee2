//! The Jupyter kernel: messaging protocol 5.3 over ZeroMQ.
//!
//! Threads and what each owns (a ZeroMQ socket is used by one thread only):
//! - shell (owns the `Session`, which is not `Send`, and the shell ROUTER): runs requests in
//!   order, streaming output while a cell runs;
//! - control (control ROUTER): kernel_info, interrupt and shutdown, served while a cell runs;
//! - iopub (the XPUB socket): the single owner of iopub. Other threads hand it finished,
//!   signed frames over an inproc PUSH/PULL pair, and it answers each new subscription
//!   with `iopub_welcome` (JEP 65);
//! - heartbeat (REP): echoes;
//! - stdin (ROUTER): reads and drops, since Kiln never asks for input;
//! - main: binds everything, installs the SIGINT handler, and waits for shutdown.

mod format;
mod history;
mod shell;
pub mod wire;

use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use wire::{Message, Signer};

const IOPUB_INPROC: &str = "inproc://kiln-iopub";

#[derive(Deserialize)]
struct ConnectionInfo {
    #[serde(default = "default_transport")]
    transport: String,
    ip: String,
    shell_port: u16,
    iopub_port: u16,
    stdin_port: u16,
    control_port: u16,
    hb_port: u16,
    #[serde(default)]
    key: String,
    #[serde(default = "default_scheme")]
    signature_scheme: String,
}

fn default_transport() -> String {
    "tcp".into()
}
fn default_scheme() -> String {
    "hmac-sha256".into()
}

impl ConnectionInfo {
    fn endpoint(&self, port: u16) -> String {
        if self.transport == "ipc" {
            format!("ipc://{}-{}", self.ip, port)
        } else {
            format!("{}://{}:{}", self.transport, self.ip, port)
        }
    }
}

pub(crate) fn log(msg: impl std::fmt::Display) {
    eprintln!("[kiln kernel] {msg}");
}

/// Sends iopub messages from one thread (each thread that publishes owns one of these).
pub(crate) struct Publisher {
    push: zmq::Socket,
    signer: Signer,
    session: String,
}

impl Publisher {
    fn new(ctx: &zmq::Context, signer: Signer, session: String) -> zmq::Result<Publisher> {
        let push = ctx.socket(zmq::PUSH)?;
        push.connect(IOPUB_INPROC)?;
        Ok(Publisher {
            push,
            signer,
            session,
        })
    }

    /// Publish `msg_type` with `parent` as its parent header.
    pub fn send(&self, parent: Option<&Message>, msg_type: &str, content: Json) {
        let mut msg = match parent {
            Some(p) => p.reply(&self.session, msg_type, content),
            None => Message::new(&self.session, msg_type, content),
        };
        // IPython's topic scheme; clients subscribe to everything, so it is informational.
        msg.identities = vec![format!("kernel.{msg_type}").into_bytes()];
        if let Err(e) = self.push.send_multipart(msg.to_frames(&self.signer), 0) {
            log(format!("iopub send failed: {e}"));
        }
    }

    pub fn status(&self, parent: &Message, state: &str) {
        self.send(Some(parent), "status", json!({ "execution_state": state }));
    }
}

/// Replies on a ROUTER socket (shell or control), signed.
pub(crate) struct Replier {
    sock: zmq::Socket,
    signer: Signer,
    session: String,
}

impl Replier {
    pub fn reply(&self, req: &Message, msg_type: &str, content: Json) {
        let msg = req.reply(&self.session, msg_type, content);
        if let Err(e) = self.sock.send_multipart(msg.to_frames(&self.signer), 0) {
            log(format!("reply send failed: {e}"));
        }
    }

    /// The next well-formed, correctly signed message; bad ones are logged and dropped.
    pub fn recv(&self) -> Option<Message> {
        let frames = match self.sock.recv_multipart(0) {
            Ok(f) => f,
            Err(e) => {
                log(format!("recv failed: {e}"));
                return None;
            }
        };
        match Message::from_frames(frames, &self.signer) {
            Ok(m) => Some(m),
            Err(e) => {
                log(format!("dropped a message: {e}"));
                None
            }
        }
    }
}

/// Why the kernel process ends.
pub(crate) enum Exit {
    Shutdown,
}

pub fn kernel_main(connection_file: &Path) -> ExitCode {
    match run(connection_file) {
        Ok(code) => code,
        Err(e) => {
            log(format!("cannot start: {e}"));
            ExitCode::FAILURE
        }
    }
}

fn run(connection_file: &Path) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(connection_file)
        .map_err(|e| format!("reading {}: {e}", connection_file.display()))?;
    let info: ConnectionInfo = serde_json::from_str(&text)
        .map_err(|e| format!("parsing {}: {e}", connection_file.display()))?;
    if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
        return Err(format!(
            "unsupported signature scheme {:?}",
            info.signature_scheme
        ));
    }
    let signer = Signer::new(info.key.as_bytes());
    let session = uuid::Uuid::new_v4().to_string();
    let ctx = zmq::Context::new();
    let zerr = |what: &str| {
        let what = what.to_string();
        move |e: zmq::Error| format!("{what}: {e}")
    };

    let bind = |kind: zmq::SocketType, port: u16, name: &str| -> Result<zmq::Socket, String> {
        let s = ctx.socket(kind).map_err(zerr(name))?;
        // A reply still queued when the process exits is dropped rather than blocking exit.
        s.set_linger(1000).map_err(zerr(name))?;
        s.bind(&info.endpoint(port))
            .map_err(zerr(&format!("binding {name} to {}", info.endpoint(port))))?;
        Ok(s)
    };
    let shell_sock = bind(zmq::ROUTER, info.shell_port, "shell")?;
    let control_sock = bind(zmq::ROUTER, info.control_port, "control")?;
    let xpub = bind(zmq::XPUB, info.iopub_port, "iopub")?;
    // Every subscriber gets its own subscription message (and so its own welcome), even when
    // another client already subscribed to the same topic.
    xpub.set_xpub_verbose(true).map_err(zerr("iopub"))?;
    let hb = bind(zmq::REP, info.hb_port, "heartbeat")?;
    // Kiln has no input(), so the kernel never sends input_request; stdin is bound so the
    // port is ours and clients can connect.
    let stdin = bind(zmq::ROUTER, info.stdin_port, "stdin")?;

    // Bound before any PUSH connects, so no early message is lost.
    let pull = ctx.socket(zmq::PULL).map_err(zerr("iopub inproc"))?;
    pull.bind(IOPUB_INPROC).map_err(zerr("iopub inproc"))?;
    {
        let signer = signer.clone();
        let session = session.clone();
        std::thread::Builder::new()
            .name("iopub".into())
            .spawn(move || iopub_loop(xpub, pull, signer, session))
            .map_err(|e| e.to_string())?;
    }
    std::thread::Builder::new()
        .name("heartbeat".into())
        .spawn(move || loop {
            // The whole message, every part: REP can answer only once it has read the last
            // part, and the echo must be the ping itself.
            match hb.recv_multipart(0) {
                Ok(ping) => {
                    if let Err(e) = hb.send_multipart(ping, 0) {
                        log(format!("heartbeat: {e}"));
                    }
                }
                Err(e) => log(format!("heartbeat: {e}")),
            }
        })
        .map_err(|e| e.to_string())?;

    {
        let signer = signer.clone();
        std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || stdin_loop(stdin, signer))
            .map_err(|e| e.to_string())?;
    }

    let (exit_tx, exit_rx) = mpsc::channel::<Exit>();
    let (flag_tx, flag_rx) = mpsc::channel::<Arc<AtomicBool>>();
    {
        let ctx = ctx.clone();
        let signer = signer.clone();
        let session = session.clone();
        let exit_tx = exit_tx.clone();
        std::thread::Builder::new()
            .name("shell".into())
            .stack_size(16 << 20)
            .spawn(move || {
                // The Session is not Send: it is born and dies on this thread.
                let kiln = kiln_jit::Session::new();
                let _ = flag_tx.send(kiln.interrupt_handle());
                let publisher = match Publisher::new(&ctx, signer.clone(), session.clone()) {
                    Ok(p) => p,
                    Err(e) => {
                        log(format!("shell publisher: {e}"));
                        let _ = exit_tx.send(Exit::Shutdown);
                        return;
                    }
                };
                let replier = Replier {
                    sock: shell_sock,
                    signer,
                    session,
                };
                shell::Shell::new(kiln, replier, publisher, exit_tx).serve();
            })
            .map_err(|e| e.to_string())?;
    }
    let interrupt = flag_rx
        .recv()
        .map_err(|_| "the shell thread died while starting".to_string())?;
    // SIGINT (Jupyter's interrupt_mode "signal", or Ctrl-C) sets the flag the compiled code
    // polls, instead of killing the process.
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone()) {
        log(format!("cannot install the SIGINT handler: {e}"));
    }
    {
        let publisher =
            Publisher::new(&ctx, signer.clone(), session.clone()).map_err(zerr("control"))?;
        let replier = Replier {
            sock: control_sock,
            signer,
            session,
        };
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || control_loop(replier, publisher, interrupt, exit_tx))
            .map_err(|e| e.to_string())?;
    }

    match exit_rx.recv() {
        Ok(Exit::Shutdown) | Err(_) => {
            // ZeroMQ sends from its own I/O thread; give it a moment to put the
            // shutdown_reply and the last status on the wire before the process ends.
            std::thread::sleep(Duration::from_millis(50));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn iopub_loop(xpub: zmq::Socket, pull: zmq::Socket, signer: Signer, session: String) {
    loop {
        let mut items = [
            xpub.as_poll_item(zmq::POLLIN),
            pull.as_poll_item(zmq::POLLIN),
        ];
        if let Err(e) = zmq::poll(&mut items, -1) {
            log(format!("iopub poll: {e}"));
            continue;
        }
        if items[0].is_readable() {
            // Subscription messages: 0x01 + topic to subscribe, 0x00 + topic to unsubscribe.
            // Read whole, so the later parts of a multipart one are not taken for messages.
            if let Some(sub) = xpub
                .recv_multipart(0)
                .ok()
                .and_then(|m| m.into_iter().next())
            {
                if sub.first() == Some(&1) {
                    let topic = sub[1..].to_vec();
                    let mut msg = Message::new(
                        &session,
                        "iopub_welcome",
                        json!({ "subscription": String::from_utf8_lossy(&topic) }),
                    );
                    msg.identities = vec![topic];
                    let _ = xpub.send_multipart(msg.to_frames(&signer), 0);
                }
            }
        }
        if items[1].is_readable() {
            match pull.recv_multipart(0) {
                Ok(frames) => {
                    if let Err(e) = xpub.send_multipart(frames, 0) {
                        log(format!("iopub send: {e}"));
                    }
                }
                Err(e) => log(format!("iopub inproc recv: {e}")),
            }
        }
    }
}

/// Reads and drops whatever arrives on stdin: with no input_request outstanding there is
/// nothing a message there can answer, and a message left unread would hold its memory
/// for as long as the kernel lives.
fn stdin_loop(stdin: zmq::Socket, signer: Signer) {
    loop {
        match stdin.recv_multipart(0) {
            Ok(frames) => match Message::from_frames(frames, &signer) {
                Ok(m) => log(format!(
                    "stdin: dropped {:?}: this kernel asks for no input",
                    m.msg_type()
                )),
                Err(e) => log(format!("stdin: dropped a message: {e}")),
            },
            Err(e) => log(format!("stdin recv failed: {e}")),
        }
    }
}

fn control_loop(
    replier: Replier,
    iopub: Publisher,
    interrupt: Arc<AtomicBool>,
    exit: mpsc::Sender<Exit>,
) {
    loop {
        let Some(msg) = replier.recv() else { continue };
        iopub.status(&msg, "busy");
        let mut shutting_down = false;
        match msg.msg_type() {
            "kernel_info_request" => {
                replier.reply(&msg, "kernel_info_reply", format::kernel_info_content())
            }
            "interrupt_request" => {
                interrupt.store(true, Ordering::SeqCst);
                replier.reply(&msg, "interrupt_reply", json!({ "status": "ok" }));
            }
            "shutdown_request" => {
                let restart = wire::content::<wire::ShutdownRequest>(&msg)
                    .map(|r| r.restart)
                    .unwrap_or(false);
                // Stop a running cell so nothing outlives the reply.
                interrupt.store(true, Ordering::SeqCst);
                replier.reply(
                    &msg,
                    "shutdown_reply",
                    json!({ "status": "ok", "restart": restart }),
                );
                shutting_down = true;
            }
            other => log(format!("control: ignored unknown message type {other:?}")),
        }
        iopub.status(&msg, "idle");
        if shutting_down {
            let _ = exit.send(Exit::Shutdown);
        }
    }
}
