//! Builds the syntax tree from tokens, following DiVinE 2's grammar
//! (`dve_grammar.yy`), including its operator precedences: `imply` binds loosest,
//! then `or`/`and` (one level, left to right), then `|`/`&`/`^` (one level), then
//! `==`/`!=`, the comparisons, the shifts, `+`/`-`, `*`/`/`/`%` and the unary operators.

use crate::ast::*;
use crate::error::{DveError, Reporter, Span};
use crate::lexer::{Keyword, Punct, Tok, Token};

/// Deepest expression nesting accepted; deeper input is rejected rather than risking
/// the parser's stack.
const MAX_NESTING: u32 = 100;

/// Most operators in one expression (BEEM's longest guard has 142). Long operator
/// chains make deep trees, which later stages walk recursively.
const MAX_OPERATORS: u32 = 2000;

/// Parses a whole model.
pub fn parse(report: Reporter<'_>, tokens: &[Token]) -> Result<Model, DveError> {
    Parser {
        toks: tokens,
        pos: 0,
        report,
        depth: 0,
        operators: 0,
    }
    .model()
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    report: Reporter<'a>,
    /// Nesting of parentheses, brackets and unary operators in the current expression.
    depth: u32,
    /// Operators in the current top-level expression.
    operators: u32,
}

type PResult<T> = Result<T, DveError>;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.toks[(self.pos + ahead).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_punct(&self, p: Punct) -> bool {
        self.peek().tok == Tok::Punct(p)
    }

    fn is_keyword(&self, k: Keyword) -> bool {
        self.peek().tok == Tok::Keyword(k)
    }

    fn eat_punct(&mut self, p: Punct) -> bool {
        let found = self.is_punct(p);
        if found {
            self.bump();
        }
        found
    }

    fn unexpected(&self, expected: &str) -> DveError {
        let t = self.peek();
        if let Tok::Punct(p @ (Punct::PlusPlus | Punct::MinusMinus)) = t.tok {
            return self.report.error(
                t.span,
                format!(
                    "`{}` is not a DVE operator (write `x = x {} 1` as an effect)",
                    p.text(),
                    &p.text()[..1]
                ),
            );
        }
        self.report.error(
            t.span,
            format!("expected {expected}, found {}", t.tok.describe()),
        )
    }

    fn expect_punct(&mut self, p: Punct, context: &str) -> PResult<Span> {
        if self.is_punct(p) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&format!("`{}` {context}", p.text())))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        match &self.peek().tok {
            Tok::Ident(name) => {
                let name = name.clone();
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn model(&mut self) -> PResult<Model> {
        let mut variables = Vec::new();
        let mut channels = Vec::new();
        let mut processes: Vec<ProcessDecl> = Vec::new();
        loop {
            let t = self.peek().clone();
            match t.tok {
                Tok::Keyword(Keyword::Const | Keyword::Byte | Keyword::Int)
                | Tok::Keyword(Keyword::Channel) => {
                    if !processes.is_empty() {
                        return Err(self.report.error(
                            t.span,
                            "global declarations must come before the first process",
                        ));
                    }
                    if t.tok == Tok::Keyword(Keyword::Channel) {
                        self.channels(&mut channels)?;
                    } else {
                        self.variables(&mut variables)?;
                    }
                }
                Tok::Keyword(Keyword::Process) => processes.push(self.process()?),
                Tok::Keyword(Keyword::System) => {
                    let system = self.system()?;
                    if self.peek().tok != Tok::Eof {
                        return Err(self.unexpected("end of file after the `system` line"));
                    }
                    if processes.is_empty() {
                        return Err(self
                            .report
                            .error(system.span, "the model declares no process"));
                    }
                    return Ok(Model {
                        variables,
                        channels,
                        processes,
                        system,
                    });
                }
                Tok::Eof => {
                    return Err(self.report.error(
                        t.span,
                        "missing `system async;` line at the end of the model",
                    ))
                }
                _ => return Err(self.unexpected("a declaration, `process` or the `system` line")),
            }
        }
    }

    fn var_type(&mut self) -> PResult<Type> {
        match self.peek().tok {
            Tok::Keyword(Keyword::Byte) => {
                self.bump();
                Ok(Type::Byte)
            }
            Tok::Keyword(Keyword::Int) => {
                self.bump();
                Ok(Type::Int)
            }
            _ => Err(self.unexpected("a type (`byte` or `int`)")),
        }
    }

    /// `[const] byte|int decl, decl, ... ;`
    fn variables(&mut self, out: &mut Vec<VarDecl>) -> PResult<()> {
        let is_const = self.is_keyword(Keyword::Const);
        if is_const {
            self.bump();
        }
        let ty = self.var_type()?;
        loop {
            let name = self.ident("a variable name")?;
            let array = if self.is_punct(Punct::LBracket) {
                let open = self.bump().span;
                let size = match self.peek().tok {
                    Tok::Number(n) => n as u32,
                    _ => return Err(self.unexpected("an array size (a number)")),
                };
                self.bump();
                let close = self.expect_punct(Punct::RBracket, "after the array size")?;
                Some((size, open.to(close)))
            } else {
                None
            };
            let init = if self.eat_punct(Punct::Assign) {
                if self.is_punct(Punct::LBrace) {
                    let open = self.bump().span;
                    let mut items = vec![self.expr()?];
                    while self.eat_punct(Punct::Comma) {
                        items.push(self.expr()?);
                    }
                    let close = self.expect_punct(Punct::RBrace, "after the initial values")?;
                    Some(Initializer::List(items, open.to(close)))
                } else {
                    Some(Initializer::Scalar(self.expr()?))
                }
            } else {
                None
            };
            out.push(VarDecl {
                is_const,
                ty,
                name,
                array,
                init,
            });
            if !self.eat_punct(Punct::Comma) {
                break;
            }
        }
        self.expect_punct(Punct::Semi, "after the declaration")?;
        Ok(())
    }

    /// `channel a, b;` or `channel {byte, int} c[2], d[0];`
    fn channels(&mut self, out: &mut Vec<ChannelDecl>) -> PResult<()> {
        self.bump();
        if self.eat_punct(Punct::LBrace) {
            let mut types = vec![self.var_type()?];
            while self.eat_punct(Punct::Comma) {
                types.push(self.var_type()?);
            }
            self.expect_punct(Punct::RBrace, "after the channel item types")?;
            loop {
                let name = self.ident("a channel name")?;
                self.expect_punct(
                    Punct::LBracket,
                    "after a typed channel's name (its buffer size, `[0]` for rendezvous)",
                )?;
                let buffer = match self.peek().tok {
                    Tok::Number(n) => n as u32,
                    _ => return Err(self.unexpected("a buffer size (a number)")),
                };
                self.bump();
                self.expect_punct(Punct::RBracket, "after the buffer size")?;
                out.push(ChannelDecl {
                    name,
                    item_types: Some(types.clone()),
                    buffer,
                });
                if !self.eat_punct(Punct::Comma) {
                    break;
                }
            }
        } else {
            loop {
                let name = self.ident("a channel name")?;
                out.push(ChannelDecl {
                    name,
                    item_types: None,
                    buffer: 0,
                });
                if !self.eat_punct(Punct::Comma) {
                    break;
                }
            }
        }
        self.expect_punct(Punct::Semi, "after the channel declaration")?;
        Ok(())
    }

    fn ident_list(&mut self, what: &str) -> PResult<Vec<Ident>> {
        let mut names = vec![self.ident(what)?];
        while self.eat_punct(Punct::Comma) {
            names.push(self.ident(what)?);
        }
        Ok(names)
    }

    fn process(&mut self) -> PResult<ProcessDecl> {
        self.bump();
        let name = self.ident("a process name")?;
        self.expect_punct(Punct::LBrace, "to open the process body")?;
        let mut variables = Vec::new();
        while matches!(
            self.peek().tok,
            Tok::Keyword(Keyword::Const | Keyword::Byte | Keyword::Int)
        ) {
            self.variables(&mut variables)?;
        }
        if !self.is_keyword(Keyword::State) {
            return Err(if self.is_keyword(Keyword::Channel) {
                self.report
                    .error(self.peek().span, "channels must be declared globally")
            } else {
                self.unexpected("local declarations or the `state` list")
            });
        }
        self.bump();
        let states = self.ident_list("a state name")?;
        self.expect_punct(Punct::Semi, "after the state list")?;
        let mut init: Option<Ident> = None;
        let mut commit = Vec::new();
        let mut accept = Vec::new();
        loop {
            let t = self.peek().clone();
            match t.tok {
                Tok::Keyword(Keyword::Init) => {
                    self.bump();
                    let s = self.ident("the initial state's name")?;
                    if init.is_some() {
                        return Err(self
                            .report
                            .error(t.span, "the initial state is declared twice"));
                    }
                    init = Some(s);
                    self.expect_punct(Punct::Semi, "after the initial state")?;
                }
                Tok::Keyword(Keyword::Commit) => {
                    self.bump();
                    commit.extend(self.ident_list("a committed state's name")?);
                    self.expect_punct(Punct::Semi, "after the committed states")?;
                }
                Tok::Keyword(Keyword::Accept) => {
                    self.bump();
                    accept.extend(self.accept_list()?);
                }
                _ => break,
            }
        }
        let Some(init) = init else {
            return Err(self.unexpected("`init` naming the initial state"));
        };
        let mut asserts = Vec::new();
        if self.is_keyword(Keyword::Assert) {
            self.bump();
            loop {
                let state = self.ident("a state name before `:`")?;
                self.expect_punct(Punct::Colon, "after the asserted state")?;
                asserts.push((state, self.expr()?));
                if !self.eat_punct(Punct::Comma) {
                    break;
                }
            }
            self.expect_punct(Punct::Semi, "after the assertions")?;
        }
        let mut transitions = Vec::new();
        if self.is_keyword(Keyword::Trans) {
            self.bump();
            let mut previous_from: Option<Ident> = None;
            loop {
                let t = self.transition(previous_from.as_ref())?;
                previous_from = Some(t.from.clone());
                transitions.push(t);
                if !self.eat_punct(Punct::Comma) {
                    break;
                }
            }
            self.expect_punct(Punct::Semi, "after the last transition")?;
        }
        self.expect_punct(Punct::RBrace, "to close the process body")?;
        Ok(ProcessDecl {
            name,
            variables,
            states,
            init,
            commit,
            accept,
            asserts,
            transitions,
        })
    }

    /// The state names of an `accept` clause in any of DiVinE's acceptance forms
    /// (`accept a, b;`, `accept genbuchi (a, b), (c);`, `accept rabin (a; b);`).
    fn accept_list(&mut self) -> PResult<Vec<Ident>> {
        if matches!(
            self.peek().tok,
            Tok::Keyword(
                Keyword::Buchi
                    | Keyword::Genbuchi
                    | Keyword::Muller
                    | Keyword::Rabin
                    | Keyword::Streett
            )
        ) {
            self.bump();
        }
        let mut names = Vec::new();
        let mut depth = 0u32;
        loop {
            let t = self.peek().clone();
            match t.tok {
                Tok::Ident(name) => {
                    self.bump();
                    names.push(Ident { name, span: t.span });
                }
                Tok::Punct(Punct::Comma) => {
                    self.bump();
                }
                Tok::Punct(Punct::LParen) if depth == 0 => {
                    self.bump();
                    depth = 1;
                }
                Tok::Punct(Punct::RParen) if depth == 1 => {
                    self.bump();
                    depth = 0;
                }
                Tok::Punct(Punct::Semi) => {
                    self.bump();
                    if depth == 0 {
                        return Ok(names);
                    }
                }
                _ => return Err(self.unexpected("accepting state names")),
            }
        }
    }

    fn transition(&mut self, previous_from: Option<&Ident>) -> PResult<Transition> {
        let start = self.peek().span;
        let from = if self.is_punct(Punct::Arrow) {
            match previous_from {
                Some(f) => f.clone(),
                None => {
                    return Err(self
                        .report
                        .error(start, "the first transition must name its source state"))
                }
            }
        } else {
            self.ident("a transition's source state")?
        };
        if self.is_punct(Punct::WideArrow) {
            return Err(self.report.error(
                self.peek().span,
                "probabilistic transitions (`=>`) are not supported",
            ));
        }
        self.expect_punct(Punct::Arrow, "between the source and target states")?;
        let to = self.ident("a transition's target state")?;
        self.expect_punct(Punct::LBrace, "to open the transition body")?;
        let mut guard = None;
        let mut sync = None;
        let mut effects = Vec::new();
        if self.is_keyword(Keyword::Guard) {
            self.bump();
            guard = Some(self.expr()?);
            self.expect_punct(Punct::Semi, "after the guard")?;
        }
        if self.is_keyword(Keyword::Sync) {
            self.bump();
            sync = Some(self.sync()?);
            self.expect_punct(Punct::Semi, "after the synchronisation")?;
        }
        if self.is_keyword(Keyword::Effect) {
            self.bump();
            loop {
                let target = self.expr()?;
                self.expect_punct(Punct::Assign, "in an assignment")?;
                let value = self.expr()?;
                effects.push(Assignment { target, value });
                if !self.eat_punct(Punct::Comma) {
                    break;
                }
            }
            self.expect_punct(Punct::Semi, "after the effects")?;
        }
        if !self.is_punct(Punct::RBrace) {
            let t = self.peek();
            if let Tok::Keyword(k @ (Keyword::Guard | Keyword::Sync | Keyword::Effect)) = t.tok {
                return Err(self.report.error(
                    t.span,
                    format!(
                        "`{}` is out of order or repeated: a transition body is `guard`, then `sync`, then `effect`, each at most once",
                        k.text()
                    ),
                ));
            }
            return Err(self.unexpected("`}` to close the transition body"));
        }
        let end = self.bump().span;
        Ok(Transition {
            from,
            to,
            guard,
            sync,
            effects,
            span: start.to(end),
        })
    }

    /// `c!`, `c!v`, `c!{v, w}`, `c?`, `c?x`, `c?{x, y}`.
    fn sync(&mut self) -> PResult<SyncDecl> {
        let channel = self.ident("a channel name")?;
        let dir = match self.peek().tok {
            Tok::Punct(Punct::Bang) => SyncDir::Send,
            Tok::Punct(Punct::Question) => SyncDir::Receive,
            _ => return Err(self.unexpected("`!` or `?` after the channel name")),
        };
        let mut end = self.bump().span;
        let mut values = Vec::new();
        if self.eat_punct(Punct::LBrace) {
            values.push(self.expr()?);
            while self.eat_punct(Punct::Comma) {
                values.push(self.expr()?);
            }
            end = self.expect_punct(Punct::RBrace, "after the synchronised values")?;
        } else if !self.is_punct(Punct::Semi) {
            let v = self.expr()?;
            end = v.span;
            values.push(v);
        }
        Ok(SyncDecl {
            span: channel.span.to(end),
            channel,
            dir,
            values,
        })
    }

    fn system(&mut self) -> PResult<SystemDecl> {
        let start = self.bump().span;
        match self.peek().tok {
            Tok::Keyword(Keyword::Async) => {
                self.bump();
            }
            Tok::Keyword(Keyword::Sync) => {
                return Err(self.report.error(
                    self.peek().span,
                    "`system sync` (synchronous systems) is not supported; only `system async` is",
                ))
            }
            _ => return Err(self.unexpected("`async` after `system`")),
        }
        let property = if self.is_keyword(Keyword::Property) {
            self.bump();
            Some(self.ident("the property process's name")?)
        } else {
            None
        };
        let end = self.expect_punct(Punct::Semi, "after the `system` line")?;
        Ok(SystemDecl {
            property,
            span: start.to(end),
        })
    }

    /// An expression.
    pub fn expr(&mut self) -> PResult<Expr> {
        if self.depth == 0 {
            self.operators = 0;
        }
        self.binary(0)
    }

    fn count_operator(&mut self) -> PResult<()> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.report.error(
                self.peek().span,
                format!("expression too long (more than {MAX_OPERATORS} operators)"),
            ));
        }
        Ok(())
    }

    fn binary_op(&self) -> Option<(BinaryOp, u8)> {
        use BinaryOp::*;
        Some(match self.peek().tok {
            Tok::Keyword(Keyword::Imply) => (Imply, 0),
            Tok::Keyword(Keyword::Or) | Tok::Punct(Punct::OrOr) => (Or, 1),
            Tok::Keyword(Keyword::And) | Tok::Punct(Punct::AndAnd) => (And, 1),
            Tok::Punct(Punct::Pipe) => (BitOr, 2),
            Tok::Punct(Punct::Amp) => (BitAnd, 2),
            Tok::Punct(Punct::Caret) => (BitXor, 2),
            Tok::Punct(Punct::EqEq) => (Eq, 3),
            Tok::Punct(Punct::Ne) => (Ne, 3),
            Tok::Punct(Punct::Lt) => (Lt, 4),
            Tok::Punct(Punct::Le) => (Le, 4),
            Tok::Punct(Punct::Gt) => (Gt, 4),
            Tok::Punct(Punct::Ge) => (Ge, 4),
            Tok::Punct(Punct::Shl) => (Shl, 5),
            Tok::Punct(Punct::Shr) => (Shr, 5),
            Tok::Punct(Punct::Plus) => (Add, 6),
            Tok::Punct(Punct::Minus) => (Sub, 6),
            Tok::Punct(Punct::Star) => (Mul, 7),
            Tok::Punct(Punct::Slash) => (Div, 7),
            Tok::Punct(Punct::Percent) => (Rem, 7),
            _ => return None,
        })
    }

    fn binary(&mut self, min_level: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some((op, level)) = self.binary_op() {
            if level < min_level {
                break;
            }
            self.count_operator()?;
            self.bump();
            let rhs = self.binary(level + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
        Ok(lhs)
    }

    fn nest(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.report.error(
                self.peek().span,
                format!("expression nested too deeply (the limit is {MAX_NESTING} levels)"),
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek().tok {
            Tok::Punct(Punct::Minus) => Some(UnaryOp::Neg),
            Tok::Punct(Punct::Tilde) => Some(UnaryOp::BitNot),
            Tok::Keyword(Keyword::Not) | Tok::Punct(Punct::Bang) => Some(UnaryOp::Not),
            _ => None,
        };
        let Some(op) = op else {
            return self.primary();
        };
        self.count_operator()?;
        let start = self.bump().span;
        self.nest()?;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(Expr {
            span: start.to(operand.span),
            kind: ExprKind::Unary(op, Box::new(operand)),
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Number(n) => {
                self.bump();
                Ok(Expr {
                    kind: ExprKind::Number(n),
                    span: t.span,
                })
            }
            Tok::Keyword(k @ (Keyword::True | Keyword::False)) => {
                self.bump();
                Ok(Expr {
                    kind: ExprKind::Number(i32::from(k == Keyword::True)),
                    span: t.span,
                })
            }
            Tok::Punct(Punct::LParen) => {
                self.bump();
                self.nest()?;
                let inner = self.expr()?;
                self.depth -= 1;
                let end = self.expect_punct(Punct::RParen, "to close `(`")?;
                Ok(Expr {
                    kind: inner.kind,
                    span: t.span.to(end),
                })
            }
            Tok::Ident(_) => self.name_expr(),
            _ => Err(self.unexpected("an expression")),
        }
    }

    /// `x`, `a[i]`, `P.s`, `P->v`, `P->a[i]`.
    fn name_expr(&mut self) -> PResult<Expr> {
        let name = self.ident("a name")?;
        match self.peek().tok {
            Tok::Punct(Punct::LBracket) => {
                let index = self.index()?;
                let span = name.span.to(self.toks[self.pos - 1].span);
                Ok(Expr {
                    kind: ExprKind::Index(name, Box::new(index)),
                    span,
                })
            }
            Tok::Punct(Punct::Dot) => {
                self.bump();
                let state = self.ident("a state name after `.`")?;
                Ok(Expr {
                    span: name.span.to(state.span),
                    kind: ExprKind::InState(name, state),
                })
            }
            Tok::Punct(Punct::Arrow) if matches!(self.peek_at(1), Tok::Ident(_)) => {
                self.bump();
                let var = self.ident("a variable name after `->`")?;
                let index = if self.is_punct(Punct::LBracket) {
                    Some(Box::new(self.index()?))
                } else {
                    None
                };
                let span = name.span.to(self.toks[self.pos - 1].span);
                Ok(Expr {
                    kind: ExprKind::Foreign(name, var, index),
                    span,
                })
            }
            _ => Ok(Expr {
                span: name.span,
                kind: ExprKind::Name(name),
            }),
        }
    }

    /// `[ expr ]`
    fn index(&mut self) -> PResult<Expr> {
        self.bump();
        self.nest()?;
        let index = self.expr()?;
        self.depth -= 1;
        self.expect_punct(Punct::RBracket, "after the array index")?;
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn parse_src(src: &str) -> Result<Model, DveError> {
        let r = Reporter {
            file: "t.dve",
            source: src,
        };
        parse(r, &tokenize(r, src)?)
    }

    fn parse_expr(src: &str) -> Expr {
        let r = Reporter {
            file: "t.dve",
            source: src,
        };
        let toks = tokenize(r, src).unwrap();
        let mut p = Parser {
            toks: &toks,
            pos: 0,
            report: r,
            depth: 0,
            operators: 0,
        };
        let e = p.expr().unwrap();
        assert_eq!(p.peek().tok, Tok::Eof, "whole input parsed");
        e
    }

    /// Fully parenthesised rendering, to check precedence and associativity.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Number(n) => n.to_string(),
            ExprKind::Name(i) => i.name.clone(),
            ExprKind::Index(a, i) => format!("{}[{}]", a.name, show(i)),
            ExprKind::InState(p, s) => format!("{}.{}", p.name, s.name),
            ExprKind::Foreign(p, v, None) => format!("{}->{}", p.name, v.name),
            ExprKind::Foreign(p, v, Some(i)) => format!("{}->{}[{}]", p.name, v.name, show(i)),
            ExprKind::Unary(op, x) => format!("({op:?} {})", show(x)),
            ExprKind::Binary(op, a, b) => format!("({} {op:?} {})", show(a), show(b)),
        }
    }

    #[test]
    fn precedence_follows_divine() {
        assert_eq!(show(&parse_expr("1 + 2 * 3")), "(1 Add (2 Mul 3))");
        assert_eq!(show(&parse_expr("1 - 2 - 3")), "((1 Sub 2) Sub 3)");
        // `and` and `or` share one level and group left to right, as in DiVinE.
        assert_eq!(show(&parse_expr("a or b and c")), "((a Or b) And c)");
        // `|`, `&` and `^` share one level too, below `==`.
        assert_eq!(
            show(&parse_expr("a | b & c == 1")),
            "((a BitOr b) BitAnd (c Eq 1))"
        );
        assert_eq!(
            show(&parse_expr("a imply b || c < d << 1")),
            "(a Imply (b Or (c Lt (d Shl 1))))"
        );
        assert_eq!(show(&parse_expr("not x == 1")), "((Not x) Eq 1)");
        assert_eq!(
            show(&parse_expr("-x[i+1] * ~2")),
            "((Neg x[(i Add 1)]) Mul (BitNot 2))"
        );
        assert_eq!(
            show(&parse_expr("P.s && Q->v[0] != Q->w")),
            "(P.s And (Q->v[0] Ne Q->w))"
        );
    }

    #[test]
    fn parses_declarations_processes_and_transitions() {
        let m = parse_src(
            "const int N = 3; byte a[3] = {1, 2}, b; channel c, d; channel {byte} e[2];
             process P { byte x = 1; state s, t; init s; commit t;
               trans s -> t { guard x < N; sync c!x+1; effect a[0] = 1, b = 2; },
                     -> s { sync e?{x}; };
             }
             process Q { state q; init q; accept q; assert q: b < 5; trans q -> q { sync c?b; }; }
             system async property Q;",
        )
        .unwrap();
        assert_eq!(m.variables.len(), 3);
        assert_eq!(m.channels.len(), 3);
        assert_eq!(m.channels[2].buffer, 2);
        let p = &m.processes[0];
        assert_eq!(p.transitions.len(), 2);
        assert_eq!(
            p.transitions[1].from.name, "s",
            "`-> s` reuses the previous source"
        );
        assert_eq!(p.transitions[0].effects.len(), 2);
        assert_eq!(p.commit[0].name, "t");
        assert_eq!(m.processes[1].accept[0].name, "q");
        assert_eq!(m.processes[1].asserts.len(), 1);
        assert_eq!(m.system.property.as_ref().unwrap().name, "Q");
    }

    fn err(src: &str) -> String {
        parse_src(src).unwrap_err().to_string()
    }

    #[test]
    fn syntax_errors_name_the_problem_and_position() {
        assert_eq!(
            err("byte x\nprocess P { state s; init s; }\nsystem async;"),
            "t.dve:2:1: expected `;` after the declaration, found keyword `process`"
        );
        let long = "a".repeat(100_000);
        assert_eq!(
            err(&format!("byte x {long};")),
            format!(
                "t.dve:1:8: expected `;` after the declaration, found identifier `{}…`",
                "a".repeat(64)
            )
        );
        assert!(err("process P { state s; init s; }")
            .starts_with("t.dve:1:31: missing `system async;` line at the end of the model"));
        assert!(err("system async;").starts_with("t.dve:1:1: the model declares no process"));
        assert!(err("process P { state s; init s; } system sync;")
            .starts_with("t.dve:1:39: `system sync` (synchronous systems) is not supported"));
        assert!(
            err("process P { state s; init s; trans s => { t: 1 }; } system async;")
                .starts_with("t.dve:1:38: probabilistic transitions (`=>`) are not supported")
        );
        assert!(err(
            "process P { state s; init s; trans s -> s { effect x = 1; guard x; }; } system async;"
        )
        .contains("`guard` is out of order or repeated"));
        assert!(err("process P { state s; init s; } byte x; system async;")
            .starts_with("t.dve:1:32: global declarations must come before the first process"));
        assert!(err("process P { state s; } system async;")
            .starts_with("t.dve:1:22: expected `init` naming the initial state, found `}`"));
        assert!(
            err("process P { state s; init s; trans s -> s { effect x++; }; } system async;")
                .contains("`++` is not a DVE operator (write `x = x + 1` as an effect)")
        );
        assert!(
            err("byte x = 5--3; process P { state s; init s; } system async;")
                .contains("`--` is not a DVE operator")
        );
        assert!(err("process P { state s; init s; } system async; byte y;")
            .contains("expected end of file after the `system` line"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!(
            "byte x = {}1{};\nprocess P {{ state s; init s; }} system async;",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        assert!(err(&src).contains("expression nested too deeply (the limit is 100 levels)"));
        let src = format!(
            "byte x = {}1;\nprocess P {{ state s; init s; }} system async;",
            "not ".repeat(5000)
        );
        assert!(err(&src).contains("expression nested too deeply"));
    }

    #[test]
    fn long_operator_chains_are_limited() {
        let chain = |n: usize| {
            format!(
                "byte x = 0{};\nprocess P {{ state s; init s; }} system async;",
                " + 0".repeat(n)
            )
        };
        assert!(parse_src(&chain(2000)).is_ok());
        assert!(err(&chain(2001)).contains("expression too long (more than 2000 operators)"));
    }
}
