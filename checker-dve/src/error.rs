//! Source positions and the one error type every stage reports.

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

/// Why a DVE model was rejected: a file that cannot be read, or a syntax, name or
/// type error at a source position.
///
/// `Display` prints `file:line:col: message` on the first line and, for errors with a
/// position, the offending source line and a caret marking the offending text below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DveError {
    file: String,
    position: Option<(u32, u32)>,
    message: String,
    source_line: String,
    marker: (usize, usize),
}

impl DveError {
    /// An error at `span` of `source` (the text of `file`).
    pub(crate) fn at(file: &str, source: &str, span: Span, message: impl Into<String>) -> Self {
        let line_start = source[..span.start.min(source.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = source[line_start..]
            .find('\n')
            .map_or(source.len(), |i| line_start + i);
        let line_text = source[line_start..line_end].trim_end_matches('\r');
        let col = span.col.max(1) as usize - 1;
        let width = source
            .get(span.start.min(line_end)..span.end.clamp(span.start, line_end))
            .map_or(1, |s| s.chars().count().max(1));
        DveError {
            file: file.to_string(),
            position: Some((span.line, span.col)),
            message: message.into(),
            source_line: line_text.replace('\t', " "),
            marker: (col, width),
        }
    }

    /// An error that has no source position (an unreadable file).
    pub(crate) fn without_position(file: &str, message: impl Into<String>) -> Self {
        DveError {
            file: file.to_string(),
            position: None,
            message: message.into(),
            source_line: String::new(),
            marker: (0, 0),
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
            Some((line, col)) => {
                writeln!(f, "{}:{}:{}: {}", self.file, line, col, self.message)?;
                writeln!(f, "    {}", self.source_line)?;
                let (col, width) = self.marker;
                write!(f, "    {}{}", " ".repeat(col), "^".repeat(width.min(80)))
            }
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
        DveError::at(self.file, self.source, span, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_position_line_and_caret() {
        let src = "byte x;\nbyte yy = zz;\n";
        let span = Span {
            line: 2,
            col: 11,
            start: 18,
            end: 20,
        };
        let e = DveError::at("m.dve", src, span, "unknown identifier `zz`");
        assert_eq!(
            e.to_string(),
            "m.dve:2:11: unknown identifier `zz`\n    byte yy = zz;\n              ^^"
        );
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
}
