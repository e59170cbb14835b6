//! Splits DVE source text into tokens, following DiVinE 2's flex lexer: `//` and
//! `/* */` comments, `\` line continuations, identifiers of `[a-zA-Z_][a-zA-Z0-9_$#]*`,
//! decimal numbers and C-like operators.

use crate::error::{excerpt, DveError, Reporter, Span};

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An identifier that is not a keyword.
    Ident(String),
    /// A decimal literal.
    Number(i32),
    /// A keyword (`process`, `guard`, `and`, ...).
    Keyword(Keyword),
    /// An operator or punctuation mark.
    Punct(Punct),
    /// End of input.
    Eof,
}

/// DVE keywords (DiVinE 2's `dve_keywords.gperf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// `guard`
    Guard,
    /// `sync`
    Sync,
    /// `async`
    Async,
    /// `effect`
    Effect,
    /// `process`
    Process,
    /// `state`
    State,
    /// `init`
    Init,
    /// `accept`
    Accept,
    /// `commit`
    Commit,
    /// `trans`
    Trans,
    /// `system`
    System,
    /// `true`
    True,
    /// `false`
    False,
    /// `and`
    And,
    /// `or`
    Or,
    /// `not`
    Not,
    /// `imply`
    Imply,
    /// `int`
    Int,
    /// `byte`
    Byte,
    /// `const`
    Const,
    /// `channel`
    Channel,
    /// `property`
    Property,
    /// `buchi`
    Buchi,
    /// `genbuchi`
    Genbuchi,
    /// `streett`
    Streett,
    /// `rabin`
    Rabin,
    /// `muller`
    Muller,
    /// `assert`
    Assert,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        use Keyword::*;
        Some(match word {
            "guard" => Guard,
            "sync" => Sync,
            "async" => Async,
            "effect" => Effect,
            "process" => Process,
            "state" => State,
            "init" => Init,
            "accept" => Accept,
            "commit" => Commit,
            "trans" => Trans,
            "system" => System,
            "true" => True,
            "false" => False,
            "and" => And,
            "or" => Or,
            "not" => Not,
            "imply" => Imply,
            "int" => Int,
            "byte" => Byte,
            "const" => Const,
            "channel" => Channel,
            "property" => Property,
            "buchi" => Buchi,
            "genbuchi" => Genbuchi,
            "streett" => Streett,
            "rabin" => Rabin,
            "muller" => Muller,
            "assert" => Assert,
            _ => return None,
        })
    }

    /// The keyword as written in source.
    pub fn text(self) -> &'static str {
        use Keyword::*;
        match self {
            Guard => "guard",
            Sync => "sync",
            Async => "async",
            Effect => "effect",
            Process => "process",
            State => "state",
            Init => "init",
            Accept => "accept",
            Commit => "commit",
            Trans => "trans",
            System => "system",
            True => "true",
            False => "false",
            And => "and",
            Or => "or",
            Not => "not",
            Imply => "imply",
            Int => "int",
            Byte => "byte",
            Const => "const",
            Channel => "channel",
            Property => "property",
            Buchi => "buchi",
            Genbuchi => "genbuchi",
            Streett => "streett",
            Rabin => "rabin",
            Muller => "muller",
            Assert => "assert",
        }
    }
}

/// Operators and punctuation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Punct {
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// `:`
    Colon,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `?`
    Question,
    /// `!`
    Bang,
    /// `~`
    Tilde,
    /// `->`
    Arrow,
    /// `=>`
    WideArrow,
    /// `=`
    Assign,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `|`
    Pipe,
    /// `&`
    Amp,
    /// `^`
    Caret,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `||`
    OrOr,
    /// `&&`
    AndAnd,
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    /// `++`
    PlusPlus,
    /// `--`
    MinusMinus,
}

impl Punct {
    /// The operator as written in source.
    pub fn text(self) -> &'static str {
        use Punct::*;
        match self {
            Dot => ".",
            Comma => ",",
            Semi => ";",
            Colon => ":",
            LBrace => "{",
            RBrace => "}",
            LBracket => "[",
            RBracket => "]",
            LParen => "(",
            RParen => ")",
            Question => "?",
            Bang => "!",
            Tilde => "~",
            Arrow => "->",
            WideArrow => "=>",
            Assign => "=",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            Pipe => "|",
            Amp => "&",
            Caret => "^",
            Shl => "<<",
            Shr => ">>",
            OrOr => "||",
            AndAnd => "&&",
            Le => "<=",
            Lt => "<",
            Ge => ">=",
            Gt => ">",
            EqEq => "==",
            Ne => "!=",
            PlusPlus => "++",
            MinusMinus => "--",
        }
    }
}

/// Operators, longest first so that `<<` wins over `<`.
const PUNCTS: &[(&str, Punct)] = &[
    ("->", Punct::Arrow),
    ("=>", Punct::WideArrow),
    ("<<", Punct::Shl),
    (">>", Punct::Shr),
    ("||", Punct::OrOr),
    ("&&", Punct::AndAnd),
    ("<=", Punct::Le),
    (">=", Punct::Ge),
    ("==", Punct::EqEq),
    ("!=", Punct::Ne),
    ("++", Punct::PlusPlus),
    ("--", Punct::MinusMinus),
    (".", Punct::Dot),
    (",", Punct::Comma),
    (";", Punct::Semi),
    (":", Punct::Colon),
    ("{", Punct::LBrace),
    ("}", Punct::RBrace),
    ("[", Punct::LBracket),
    ("]", Punct::RBracket),
    ("(", Punct::LParen),
    (")", Punct::RParen),
    ("?", Punct::Question),
    ("!", Punct::Bang),
    ("~", Punct::Tilde),
    ("=", Punct::Assign),
    ("+", Punct::Plus),
    ("-", Punct::Minus),
    ("*", Punct::Star),
    ("/", Punct::Slash),
    ("%", Punct::Percent),
    ("|", Punct::Pipe),
    ("&", Punct::Amp),
    ("^", Punct::Caret),
    ("<", Punct::Lt),
    (">", Punct::Gt),
];

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier `{}`", excerpt(s)),
            Tok::Number(n) => format!("number `{n}`"),
            Tok::Keyword(k) => format!("keyword `{}`", k.text()),
            Tok::Punct(p) => format!("`{}`", p.text()),
            Tok::Eof => "end of file".to_string(),
        }
    }
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// Splits `source` into tokens; the last one is [`Tok::Eof`].
pub fn tokenize(report: Reporter<'_>, source: &str) -> Result<Vec<Token>, DveError> {
    Lexer {
        src: source,
        pos: 0,
        line: 1,
        col: 1,
        report,
    }
    .run()
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    col: u32,
    report: Reporter<'a>,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn here(&self) -> Span {
        Span {
            line: self.line,
            col: self.col,
            start: self.pos,
            end: self.pos,
        }
    }

    /// Moves past `n` bytes, which must end on a character boundary.
    fn advance(&mut self, n: usize) {
        for c in self.src[self.pos..self.pos + n].chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.pos += n;
    }

    fn run(mut self) -> Result<Vec<Token>, DveError> {
        let mut tokens = Vec::new();
        loop {
            self.skip_blanks_and_comments()?;
            let start = self.here();
            let Some(c) = self.rest().chars().next() else {
                tokens.push(Token {
                    tok: Tok::Eof,
                    span: start,
                });
                return Ok(tokens);
            };
            let tok = if c.is_ascii_alphabetic() || c == '_' {
                let len = self
                    .rest()
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '#')
                    })
                    .unwrap_or(self.rest().len());
                let word = &self.rest()[..len];
                let tok = match Keyword::from_word(word) {
                    Some(k) => Tok::Keyword(k),
                    None => Tok::Ident(word.to_string()),
                };
                self.advance(len);
                tok
            } else if c.is_ascii_digit() {
                let len = self
                    .rest()
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(self.rest().len());
                let digits = self.rest()[..len].to_string();
                let value = digits.parse::<i32>().ok();
                self.advance(len);
                match value {
                    Some(v) => Tok::Number(v),
                    None => {
                        let span = Span {
                            end: self.pos,
                            ..start
                        };
                        return Err(self.report.error(
                            span,
                            format!(
                                "number `{}` is too large (the limit is 2147483647)",
                                excerpt(&digits)
                            ),
                        ));
                    }
                }
            } else if let Some(&(text, p)) = PUNCTS.iter().find(|(t, _)| self.rest().starts_with(t))
            {
                self.advance(text.len());
                Tok::Punct(p)
            } else {
                let span = Span {
                    end: self.pos + c.len_utf8(),
                    ..start
                };
                return Err(self
                    .report
                    .error(span, format!("unknown character `{}`", c.escape_debug())));
            };
            tokens.push(Token {
                tok,
                span: Span {
                    end: self.pos,
                    ..start
                },
            });
        }
    }

    fn skip_blanks_and_comments(&mut self) -> Result<(), DveError> {
        loop {
            let rest = self.rest();
            if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.advance(c.len_utf8());
            } else if rest.starts_with("//") {
                let len = rest.find('\n').unwrap_or(rest.len());
                self.advance(len);
            } else if let Some(body) = rest.strip_prefix("/*") {
                let start = self.here();
                match comment_length(body) {
                    Some(len) => self.advance(2 + len),
                    None => {
                        let span = Span {
                            end: start.start + 2,
                            ..start
                        };
                        return Err(self.report.error(span, "unclosed comment `/*`"));
                    }
                }
            } else if let Some(after) = rest.strip_prefix('\\') {
                // `\` followed by blanks and a newline continues the line.
                let after = after.trim_start_matches([' ', '\t']);
                if after.starts_with('\n') || after.starts_with("\r\n") {
                    let len = rest.len() - after.len();
                    self.advance(len);
                } else {
                    return Ok(());
                }
            } else {
                return Ok(());
            }
        }
    }
}

/// Bytes of a `/* */` comment's `body` (the text after `/*`) up to and including
/// `*/`. As in DiVinE, a `//` inside it hides the rest of its line, `*/` included.
fn comment_length(body: &str) -> Option<usize> {
    let mut i = 0;
    while i < body.len() {
        let rest = &body[i..];
        if rest.starts_with("*/") {
            return Some(i + 2);
        }
        if rest.starts_with("//") {
            i += rest.find('\n')?;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_comments_inside_block_comments_hide_the_end_marker() {
        assert_eq!(
            toks("/* a // b */ c\n */ x"),
            vec![Tok::Ident("x".into()), Tok::Eof]
        );
    }

    fn toks(src: &str) -> Vec<Tok> {
        let r = Reporter {
            file: "t",
            source: src,
        };
        tokenize(r, src)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    fn err(src: &str) -> String {
        let r = Reporter {
            file: "t",
            source: src,
        };
        tokenize(r, src).unwrap_err().to_string()
    }

    #[test]
    fn splits_operators_longest_first() {
        use Punct::*;
        assert_eq!(
            toks("a->b<<=c>>d||e&&!f"),
            vec![
                Tok::Ident("a".into()),
                Tok::Punct(Arrow),
                Tok::Ident("b".into()),
                Tok::Punct(Shl),
                Tok::Punct(Assign),
                Tok::Ident("c".into()),
                Tok::Punct(Shr),
                Tok::Ident("d".into()),
                Tok::Punct(OrOr),
                Tok::Ident("e".into()),
                Tok::Punct(AndAnd),
                Tok::Punct(Bang),
                Tok::Ident("f".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn skips_comments_and_continuations_and_tracks_lines() {
        let src = "byte // c\n/* multi\nline */ x\\  \n= 12;";
        let r = Reporter {
            file: "t",
            source: src,
        };
        let t = tokenize(r, src).unwrap();
        assert_eq!(t[0].tok, Tok::Keyword(Keyword::Byte));
        assert_eq!(t[1].tok, Tok::Ident("x".into()));
        assert_eq!((t[1].span.line, t[1].span.col), (3, 9));
        assert_eq!(t[3].tok, Tok::Number(12));
        assert_eq!((t[3].span.line, t[3].span.col), (4, 3));
    }

    #[test]
    fn identifiers_may_contain_dollar_and_hash() {
        assert_eq!(toks("a$#1")[0], Tok::Ident("a$#1".into()));
    }

    #[test]
    fn rejects_unknown_characters_unclosed_comments_and_huge_numbers() {
        assert_eq!(err("byte x @"), "t:1:8: unknown character `@`");
        assert_eq!(err("byte x\n\u{7}"), "t:2:1: unknown character `\\u{7}`");
        let digits = "9".repeat(1000);
        assert_eq!(
            err(&format!("byte x = {digits};")),
            format!(
                "t:1:10: number `{}…` is too large (the limit is 2147483647)",
                "9".repeat(64)
            )
        );
        assert!(err("x /* never").starts_with("t:1:3: unclosed comment `/*`"));
        assert!(err("x = 99999999999;")
            .starts_with("t:1:5: number `99999999999` is too large (the limit is 2147483647)"));
    }
}
