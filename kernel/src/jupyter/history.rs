//! Input history for `history_request`, kept in memory for the kernel's lifetime.
//!
//! There is one session, numbered 1 (IPython numbers sessions from 1 and treats 0 or a
//! negative number as "relative to the current one", so those all mean this session).

use serde_json::{json, Value as Json};

pub const SESSION: i64 = 1;

struct Entry {
    line: i64,
    input: String,
    output: Option<String>,
}

#[derive(Default)]
pub struct History {
    entries: Vec<Entry>,
}

impl History {
    pub fn push(&mut self, line: i64, input: &str, output: Option<String>) {
        self.entries.push(Entry {
            line,
            input: input.to_string(),
            output,
        });
    }

    fn row(e: &Entry, output: bool) -> Json {
        if output {
            json!([SESSION, e.line, [e.input, e.output]])
        } else {
            json!([SESSION, e.line, e.input])
        }
    }

    /// The last `n` entries.
    pub fn tail(&self, n: usize, output: bool) -> Vec<Json> {
        let skip = self.entries.len().saturating_sub(n);
        self.entries[skip..]
            .iter()
            .map(|e| Self::row(e, output))
            .collect()
    }

    /// Lines `start..stop` of `session` (`stop` ≤ 0 or absent: to the end).
    pub fn range(&self, session: i64, start: i64, stop: Option<i64>, output: bool) -> Vec<Json> {
        if session > SESSION {
            return Vec::new();
        }
        self.entries
            .iter()
            .filter(|e| e.line >= start && stop.is_none_or(|s| s <= 0 || e.line < s))
            .map(|e| Self::row(e, output))
            .collect()
    }

    /// Entries whose input matches the glob `pattern`; `unique` keeps the last of equal
    /// inputs; `n` keeps the last `n` matches.
    pub fn search(&self, pattern: &str, n: Option<usize>, unique: bool, output: bool) -> Vec<Json> {
        let mut hits: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| glob(pattern, &e.input))
            .collect();
        if unique {
            let mut seen = std::collections::HashSet::new();
            let mut kept: Vec<&Entry> = hits
                .into_iter()
                .rev()
                .filter(|e| seen.insert(e.input.as_str()))
                .collect();
            kept.reverse();
            hits = kept;
        }
        if let Some(n) = n {
            let skip = hits.len().saturating_sub(n);
            hits.drain(..skip);
        }
        hits.into_iter().map(|e| Self::row(e, output)).collect()
    }
}

/// Shell-style glob (`*` any run, `?` one character), as IPython's history search uses.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point per `*`: linear-ish, no recursion blow-up.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globbing() {
        assert!(glob("6*7", "6*7"));
        assert!(glob("6*7", "6 * 7"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(!glob("6*7", "6*8"));
    }

    #[test]
    fn queries() {
        let mut h = History::default();
        for (i, code) in ["6*7", "x = 1", "6*7", "6*7"].iter().enumerate() {
            h.push(i as i64 + 1, code, None);
        }
        assert_eq!(
            h.tail(2, false),
            vec![json!([1, 3, "6*7"]), json!([1, 4, "6*7"])]
        );
        assert_eq!(h.range(1, 2, Some(3), false), vec![json!([1, 2, "x = 1"])]);
        assert_eq!(h.range(0, 3, None, false).len(), 2);
        assert_eq!(h.search("6*7", None, false, false).len(), 3);
        assert_eq!(
            h.search("6*7", None, true, false),
            vec![json!([1, 4, "6*7"])]
        );
        assert_eq!(h.search("6*7", Some(2), false, false).len(), 2);
        assert_eq!(h.tail(1, true), vec![json!([1, 4, ["6*7", null]])]);
    }
}
