//! The shell channel: requests served in order by the thread that owns the `Session`.

use super::format::{self, ansi_traceback, byte_to_char, char_to_byte, mime_bundle};
use super::history::History;
use super::wire::{self, ExecuteRequest, Message};
use super::{log, Exit, Publisher, Replier};
use kiln_jit::magics::is_complete;
use kiln_jit::syntax::Completeness;
use kiln_jit::{ExecResult, Output, Session};
use serde_json::{json, Map, Value as Json};
use std::sync::mpsc;

pub struct Shell {
    kiln: Session,
    sock: Replier,
    iopub: Publisher,
    exit: mpsc::Sender<Exit>,
    execution_count: i64,
    history: History,
    /// Requests queued behind a failed cell, to be answered "aborted" (stop_on_error).
    aborting: Vec<Message>,
}

impl Shell {
    pub fn new(kiln: Session, sock: Replier, iopub: Publisher, exit: mpsc::Sender<Exit>) -> Shell {
        Shell {
            kiln,
            sock,
            iopub,
            exit,
            execution_count: 0,
            history: History::default(),
            aborting: Vec::new(),
        }
    }

    pub fn serve(mut self) {
        loop {
            if let Some(msg) = self.sock.recv() {
                if !self.dispatch(&msg) {
                    return;
                }
            }
        }
    }

    /// Handle one request inside busy/idle; false when the kernel is shutting down.
    fn dispatch(&mut self, msg: &Message) -> bool {
        self.iopub.status(msg, "busy");
        let mut keep_going = true;
        match msg.msg_type() {
            "execute_request" => self.execute(msg),
            "kernel_info_request" => {
                self.sock
                    .reply(msg, "kernel_info_reply", format::kernel_info_content())
            }
            "complete_request" => self.complete(msg),
            "inspect_request" => self.inspect(msg),
            "is_complete_request" => self.is_complete(msg),
            "history_request" => self.history(msg),
            "comm_info_request" => {
                self.sock
                    .reply(msg, "comm_info_reply", json!({"status": "ok", "comms": {}}))
            }
            "shutdown_request" => {
                // Older clients send this on shell; treated as on control.
                let restart = wire::content::<wire::ShutdownRequest>(msg)
                    .map(|r| r.restart)
                    .unwrap_or(false);
                self.sock.reply(
                    msg,
                    "shutdown_reply",
                    json!({"status": "ok", "restart": restart}),
                );
                keep_going = false;
            }
            // Kiln has no comms; accepted silently as ipykernel does for unknown targets.
            "comm_open" | "comm_msg" | "comm_close" => {}
            other => log(format!("shell: ignored unknown message type {other:?}")),
        }
        self.iopub.status(msg, "idle");
        if !keep_going {
            let _ = self.exit.send(Exit::Shutdown);
            return false;
        }
        self.abort_queued()
    }

    /// Take every request already waiting on the shell socket (after a failed cell with
    /// stop_on_error). This runs *before* the error reply is sent, so a request the client
    /// sends after seeing the error is never aborted.
    fn take_queued(&mut self) {
        while self.sock.sock.poll(zmq::POLLIN, 0).is_ok_and(|n| n > 0) {
            if let Some(msg) = self.sock.recv() {
                self.aborting.push(msg);
            }
        }
    }

    /// Answer the requests taken by `take_queued`: execute requests "aborted", others
    /// served normally. False when the kernel is shutting down.
    fn abort_queued(&mut self) -> bool {
        for msg in std::mem::take(&mut self.aborting) {
            if msg.msg_type() == "execute_request" {
                self.iopub.status(&msg, "busy");
                self.sock.reply(
                    &msg,
                    "execute_reply",
                    json!({"status": "aborted", "execution_count": self.execution_count}),
                );
                self.iopub.status(&msg, "idle");
            } else if !self.dispatch(&msg) {
                return false;
            }
        }
        true
    }

    fn bad_request(&self, msg: &Message, e: wire::WireError) {
        log(format!("{}: {e}", msg.msg_type()));
        let reply_type = msg.msg_type().replace("_request", "_reply");
        self.sock.reply(
            msg,
            &reply_type,
            json!({"status": "error", "ename": "ValueError", "evalue": format!("malformed request: {e}"), "traceback": []}),
        );
    }

    fn execute(&mut self, msg: &Message) {
        let req: ExecuteRequest = match wire::content(msg) {
            Ok(r) => r,
            Err(e) => return self.bad_request(msg, e),
        };
        let silent = req.silent;
        let store = req.store_history && !silent;
        if store {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        // An interrupt that arrived while idle must not kill this cell; one that arrives
        // after execute_input (what clients wait for) must.
        self.kiln.clear_interrupt();
        if !silent {
            self.iopub.send(
                Some(msg),
                "execute_input",
                json!({"code": req.code, "execution_count": count}),
            );
        }

        let mut payload: Vec<Json> = Vec::new();
        let result = if let Some(name) = format::pager_target(&req.code) {
            match self.kiln.inspect(name, name.len()) {
                Some(text) => payload
                    .push(json!({"source": "page", "data": {"text/plain": text}, "start": 0})),
                None => self.stream(
                    msg,
                    silent,
                    "stdout",
                    &format!("Object `{name}` not found.\n"),
                ),
            }
            ExecResult::Ok(None)
        } else {
            self.run_cell(msg, &req.code, silent)
        };

        match result {
            ExecResult::Ok(value) => {
                let mut shown = None;
                if let Some(v) = value.filter(|v| !matches!(v, kiln_runtime::Value::None)) {
                    let data = mime_bundle(&v);
                    shown = data["text/plain"].as_str().map(str::to_string);
                    if !silent {
                        self.iopub.send(
                            Some(msg),
                            "execute_result",
                            json!({"execution_count": count, "data": data, "metadata": {}}),
                        );
                    }
                }
                if store {
                    self.history.push(count, &req.code, shown);
                }
                let user_expressions = self.user_expressions(req.user_expressions.as_ref());
                self.sock.reply(
                    msg,
                    "execute_reply",
                    json!({"status": "ok", "execution_count": count, "payload": payload, "user_expressions": user_expressions}),
                );
            }
            ExecResult::Err(err) => {
                if store {
                    self.history.push(count, &req.code, None);
                }
                let traceback = ansi_traceback(&err.ename, &err.evalue, &err.traceback);
                if !silent {
                    self.iopub.send(
                        Some(msg),
                        "error",
                        json!({"ename": err.ename, "evalue": err.evalue, "traceback": traceback}),
                    );
                }
                if req.stop_on_error && !silent {
                    self.take_queued();
                }
                self.sock.reply(
                    msg,
                    "execute_reply",
                    json!({
                        "status": "error", "execution_count": count,
                        "ename": err.ename, "evalue": err.evalue, "traceback": traceback,
                        "payload": [], "user_expressions": {},
                    }),
                );
            }
        }
    }

    fn stream(&self, msg: &Message, silent: bool, name: &str, text: &str) {
        if !silent {
            self.iopub
                .send(Some(msg), "stream", json!({"name": name, "text": text}));
        }
    }

    /// Run a cell, publishing its output as it arrives.
    fn run_cell(&mut self, msg: &Message, code: &str, silent: bool) -> ExecResult {
        let iopub = &self.iopub;
        // The progress line: one display, replaced in place (update_display_data).
        let mut progress_id: Option<String> = None;
        let mut sink = |out: Output| {
            if silent {
                return;
            }
            match out {
                Output::Progress(line) => {
                    let data = json!({"text/plain": line.text(), "text/html": line.html()});
                    match &progress_id {
                        None => {
                            let id = uuid::Uuid::new_v4().to_string();
                            iopub.send(
                                Some(msg),
                                "display_data",
                                json!({"data": data, "metadata": {}, "transient": {"display_id": id}}),
                            );
                            progress_id = Some(id);
                        }
                        Some(id) => iopub.send(
                            Some(msg),
                            "update_display_data",
                            json!({"data": data, "metadata": {}, "transient": {"display_id": id}}),
                        ),
                    }
                }
                Output::Stdout(text) => {
                    iopub.send(Some(msg), "stream", json!({"name": "stdout", "text": text}))
                }
                Output::Stderr(text) => {
                    iopub.send(Some(msg), "stream", json!({"name": "stderr", "text": text}))
                }
                // `transient` is an object, never null: clients' schemas reject null.
                Output::Display(v) => iopub.send(
                    Some(msg),
                    "display_data",
                    json!({"data": mime_bundle(&v), "metadata": {}, "transient": {}}),
                ),
                Output::ClearOutput { wait } => {
                    iopub.send(Some(msg), "clear_output", json!({"wait": wait}))
                }
                Output::Html { html, text } => iopub.send(
                    Some(msg),
                    "display_data",
                    json!({"data": {"text/html": html, "text/plain": text}, "metadata": {}, "transient": {}}),
                ),
                Output::Image { png, title } => {
                    use base64::Engine;
                    let data = base64::engine::general_purpose::STANDARD.encode(&png);
                    let text = format!("<Figure: {}>", title.as_deref().unwrap_or("image"));
                    iopub.send(
                        Some(msg),
                        "display_data",
                        json!({"data": {"image/png": data, "text/plain": text}, "metadata": {}, "transient": {}}),
                    )
                }
            }
        };
        self.kiln.execute(code, &mut sink)
    }

    /// Each expression evaluated in the session, as text/plain or an error status.
    fn user_expressions(&mut self, exprs: Option<&Map<String, Json>>) -> Json {
        let mut out = Map::new();
        for (name, expr) in exprs.into_iter().flatten() {
            let value = match expr.as_str() {
                None => {
                    json!({"status": "error", "ename": "TypeError", "evalue": "expression must be a string", "traceback": []})
                }
                Some(code) => match self.kiln.execute(code, &mut |_| {}) {
                    ExecResult::Ok(v) => {
                        let v = v.unwrap_or(kiln_runtime::Value::None);
                        json!({"status": "ok", "data": mime_bundle(&v), "metadata": {}})
                    }
                    ExecResult::Err(e) => json!({
                        "status": "error", "ename": e.ename, "evalue": e.evalue,
                        "traceback": ansi_traceback(&e.ename, &e.evalue, &e.traceback),
                    }),
                },
            };
            out.insert(name.clone(), value);
        }
        Json::Object(out)
    }

    fn complete(&mut self, msg: &Message) {
        let req: wire::CodeCursor = match wire::content(msg) {
            Ok(r) => r,
            Err(e) => return self.bad_request(msg, e),
        };
        let cursor = char_to_byte(&req.code, req.cursor_pos.unwrap_or(usize::MAX));
        let c = self.kiln.complete(&req.code, cursor);
        self.sock.reply(
            msg,
            "complete_reply",
            json!({
                "status": "ok",
                "matches": c.matches,
                "cursor_start": byte_to_char(&req.code, c.cursor_start),
                "cursor_end": byte_to_char(&req.code, c.cursor_end),
                "metadata": {},
            }),
        );
    }

    fn inspect(&mut self, msg: &Message) {
        let req: wire::CodeCursor = match wire::content(msg) {
            Ok(r) => r,
            Err(e) => return self.bad_request(msg, e),
        };
        let cursor = char_to_byte(&req.code, req.cursor_pos.unwrap_or(usize::MAX));
        let content = match self.kiln.inspect(&req.code, cursor) {
            Some(text) => {
                json!({"status": "ok", "found": true, "data": {"text/plain": text}, "metadata": {}})
            }
            None => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
        };
        self.sock.reply(msg, "inspect_reply", content);
    }

    fn is_complete(&mut self, msg: &Message) {
        let req: wire::IsCompleteRequest = match wire::content(msg) {
            Ok(r) => r,
            Err(e) => return self.bad_request(msg, e),
        };
        let content = match is_complete(&req.code) {
            Completeness::Complete => json!({"status": "complete"}),
            Completeness::Incomplete(indent) => json!({"status": "incomplete", "indent": indent}),
            Completeness::Invalid => json!({"status": "invalid"}),
        };
        self.sock.reply(msg, "is_complete_reply", content);
    }

    fn history(&mut self, msg: &Message) {
        let req: wire::HistoryRequest = match wire::content(msg) {
            Ok(r) => r,
            Err(e) => return self.bad_request(msg, e),
        };
        let n = req.n.map(|n| n.max(0) as usize);
        let rows = match req.hist_access_type.as_str() {
            "tail" => self.history.tail(n.unwrap_or(10), req.output),
            "range" => self.history.range(
                req.session.unwrap_or(0),
                req.start.unwrap_or(0),
                req.stop,
                req.output,
            ),
            "search" => self.history.search(
                req.pattern.as_deref().unwrap_or("*"),
                n,
                req.unique,
                req.output,
            ),
            _ => Vec::new(),
        };
        self.sock.reply(
            msg,
            "history_reply",
            json!({"status": "ok", "history": rows}),
        );
    }
}
