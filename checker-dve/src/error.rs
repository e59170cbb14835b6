//! Source positions and the one error type every stage reports.

use std::borrow::Cow;
use std::fmt;

/// A region of the source: where a token, an expression or a declaration is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
}

impl Span {
    /// The smallest span covering both `self` and `other` (`self` must come first).
    pub fn to(self, other: Span) -> Span {
        Span {
            end: other.end.max(self.end),
            ..self
        }
    }
}

/// The most characters of user text (a name, a number, a piece of source) that an error
/// message quotes; longer text is cut there and ends with `…`.
pub const MAX_QUOTED_CHARS: usize = 64;

/// `text` as error messages quote it: each run of whitespace (line breaks and tabs
/// included) as one space, any other control character escaped (`\u{1b}`), and at most
/// [`MAX_QUOTED_CHARS`] characters, the rest replaced by `…`. Every message that shows
/// text from the model goes through here, so a message is one line of bounded length
/// whatever the model holds (a 1,000,000-character identifier included).
pub(crate) fn excerpt(text: &str) -> Cow<'_, str> {
    let plain = text.chars().count() <= MAX_QUOTED_CHARS
        && !text.contains(|c: char| c.is_control() || (c.is_whitespace() && c != ' '))
        && !text.contains("  ");
    if plain {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut shown = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if shown == MAX_QUOTED_CHARS {
            out.push('…');
            break;
        }
        if c.is_whitespace() {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            out.push(' ');
        } else if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        shown += 1;
    }
    Cow::Owned(out)
}

/// Why a DVE model was rejected: a file that cannot be read, or a syntax, name or
/// type error at a source position.
///
/// `Display` prints one line: `file:line:col: message` for errors with a position,
/// `file: message` for the others (an unreadable file). Text from the model that a
/// message quotes is cut to [`MAX_QUOTED_CHARS`] characters and holds no line break;
/// the file is shown as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DveError {
    file: String,
    position: Option<(u32, u32)>,
    message: String,
}

/// `message` with any control character (a line break) replaced by a space: a safety
/// net under [`excerpt`], so that no message can span lines.
fn one_line(message: String) -> String {
    if message.contains(char::is_control) {
        message.replace(char::is_control, " ")
    } else {
        message
    }
}

impl DveError {
    /// An error at `span` of `file`.
    pub(crate) fn at(file: &str, span: Span, message: impl Into<String>) -> Self {
        DveError {
            file: file.to_string(),
            position: Some((span.line, span.col)),
            message: one_line(message.into()),
        }
    }

    /// An error that has no source position (an unreadable file).
    pub(crate) fn without_position(file: &str, message: impl Into<String>) -> Self {
        DveError {
            file: file.to_string(),
            position: None,
            message: one_line(message.into()),
        }
    }

    /// The file (or model name) the error is in.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// 1-based line of the offending text, if the error has a position.
    pub fn line(&self) -> Option<u32> {
        self.position.map(|p| p.0)
    }

    /// 1-based column of the offending text, if the error has a position.
    pub fn column(&self) -> Option<u32> {
        self.position.map(|p| p.1)
    }

    /// The message alone, without file and position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            None => write!(f, "{}: {}", self.file, self.message),
            Some((line, col)) => write!(f, "{}:{}:{}: {}", self.file, line, col, self.message),
        }
    }
}

impl std::error::Error for DveError {}

/// Builds [`DveError`]s for one source text.
#[derive(Clone, Copy)]
pub(crate) struct Reporter<'a> {
    /// The file name (or model name) to print.
    pub file: &'a str,
    /// The whole source text.
    pub source: &'a str,
}

impl Reporter<'_> {
    /// An error at `span`.
    pub fn error(&self, span: Span, message: impl Into<String>) -> DveError {
        DveError::at(self.file, span, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_position_and_message() {
        let span = Span {
            line: 2,
            col: 11,
            start: 18,
            end: 20,
        };
        let e = DveError::at("m.dve", span, "unknown identifier `zz`");
        assert_eq!(e.to_string(), "m.dve:2:11: unknown identifier `zz`");
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.column(), Some(11));
        assert_eq!(e.message(), "unknown identifier `zz`");
    }

    #[test]
    fn display_without_position_is_one_line() {
        let e = DveError::without_position("x.dve", "cannot read file: not found");
        assert_eq!(e.to_string(), "x.dve: cannot read file: not found");
        assert_eq!(e.line(), None);
    }

    #[test]
    fn a_message_never_spans_lines() {
        let e = DveError::at("m.dve", Span::default(), "a\nb\r\nc");
        assert_eq!(e.to_string(), "m.dve:0:0: a b  c");
        let e = DveError::without_position("m.dve", "x\ny");
        assert_eq!(e.message(), "x y");
    }

    #[test]
    fn excerpts_are_bounded_and_single_line() {
        assert!(matches!(excerpt("short_name"), Cow::Borrowed("short_name")));
        assert_eq!(excerpt("x + 1"), "x + 1");
        assert_eq!(excerpt("x\n   +\t1"), "x + 1");
        assert_eq!(excerpt("a  b"), "a b");
        assert_eq!(excerpt("a\u{1b}[31m"), "a\\u{1b}[31m");
        assert_eq!(excerpt(""), "");
        let exact = "y".repeat(MAX_QUOTED_CHARS);
        assert_eq!(excerpt(&exact), exact);
        let long = "x".repeat(1_000_000);
        assert_eq!(excerpt(&long), format!("{}…", "x".repeat(MAX_QUOTED_CHARS)));
        // Characters, not bytes, are counted.
        let wide = "é".repeat(MAX_QUOTED_CHARS + 1);
        assert_eq!(excerpt(&wide), format!("{}…", "é".repeat(MAX_QUOTED_CHARS)));
    }
}
