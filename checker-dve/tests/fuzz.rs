//! Mutation fuzzing: the BEEM fixture sources and a few hand-written models, cut,
//! spliced, byte-flipped and sprinkled with DVE tokens, must never make the front end
//! or a (bounded) check panic or hang. Whatever is accepted is explored for a few
//! hundred states with deadlock detection on, so that counterexample replay, state
//! rendering and action labels run on it too.
//!
//! Failing cases are kept by proptest in `fuzz.proptest-regressions` next to this file
//! and replayed first on every run; crashes found while developing are pinned as plain
//! tests at the end. Run longer with `PROPTEST_CASES=20000 cargo test --release --test fuzz`.

use std::path::PathBuf;
use std::sync::OnceLock;

use checker_core::{sequential, CheckOptions, Model};
use checker_dve::{DveModel, StateVector};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures-beem");

/// Models that exercise every construct, so the fuzzer has material without fixtures.
const INLINE: &[&str] = &[
    "const int N = 3; byte a[3] = {1, 2}, b; int i = -5; channel c, d; channel {byte, int} e[2];
     channel {byte} f[0];
     process P { byte x = 1; state s, t, u; init s; commit u; assert t: b < 200;
       trans s -> t { guard x < N && a[x] != 7; sync c!x+1; effect a[0] = a[1] ^ 3, b = b + 1; },
             -> u { sync e!{x, i}; effect i = i * 2; },
             u -> s { guard Q.q1 or not (b % 2); effect x = (x << 1) / 2, b = b & 127; },
             t -> s { sync f!300; };
     }
     process Q { state q0, q1; init q0;
       trans q0 -> q1 { sync c?b; effect i = -i; },
             q1 -> q0 { sync e?{b, i}; },
             q1 -> q1 { sync f?a[b % 3]; effect b = P->x; };
     }
     system async;",
    "byte x = 254, y[2];
     process P { state s; init s; trans s -> s { guard 10 / (x - 255) imply 1; effect x = x + 1, y[x % 3] = 1; }; }
     process L { state q, r; init q; accept r; trans q -> r { guard x == 1; }; }
     system async property L;",
];

fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut sources: Vec<String> = INLINE.iter().map(|s| s.to_string()).collect();
        let dir = PathBuf::from(FIXTURES);
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "dve"))
                    .collect();
                files.sort();
                for f in files {
                    sources.push(std::fs::read_to_string(f).unwrap());
                }
            }
            Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("BEEM fixtures missing at {}", dir.display())
            }
            Err(_) => eprintln!(
                "notice: BEEM fixtures not found at {}; fuzzing the inline models only",
                dir.display()
            ),
        }
        sources
    })
}

/// Tokens spliced into sources: keywords, punctuation, edge-case numbers.
const TOKENS: &[&str] = &[
    "process",
    "state",
    "init",
    "trans",
    "->",
    "{",
    "}",
    ";",
    ",",
    "guard",
    "effect",
    "sync",
    "!",
    "?",
    "[",
    "]",
    "(",
    ")",
    "/ 0",
    "% 0",
    "byte",
    "int",
    "const",
    "channel",
    "commit",
    "accept",
    "assert",
    "system async;",
    "system",
    "property",
    "255",
    "256",
    "65535",
    "-1",
    "32768",
    "x",
    "=",
    "==",
    "and",
    "or",
    "not",
    "imply",
    ".",
    "<<",
    ">>",
    "99999999999",
    "/*",
    "//",
    "\\\n",
    "=>",
    "++",
    "{byte}",
    "[0]",
    "[300]",
    "\u{e9}",
    "\0",
    "a[",
    "P.",
    "->x",
];

/// Replacement numbers: edges of `byte` and `int`, zero divisors, small indices.
const NUMBERS: &[&str] = &[
    "0", "1", "2", "3", "5", "7", "254", "255", "256", "32767", "32768", "65535",
];

/// Replacement binary operators.
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">=", "&&",
    "||",
];

#[derive(Clone, Copy, PartialEq)]
enum Lexeme {
    Word,
    Number,
    Operator,
}

/// Byte ranges of words, numbers and operators of `src` (a rough DVE lexer).
fn lexemes(src: &[u8]) -> Vec<(usize, usize, Lexeme)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        let start = i;
        let kind = if c.is_ascii_alphabetic() || c == b'_' {
            while i < src.len() && (src[i].is_ascii_alphanumeric() || src[i] == b'_') {
                i += 1;
            }
            Lexeme::Word
        } else if c.is_ascii_digit() {
            while i < src.len() && src[i].is_ascii_digit() {
                i += 1;
            }
            Lexeme::Number
        } else if b"+-*/%&|^<>=!".contains(&c) {
            while i < src.len() && b"+-*/%&|^<>=!".contains(&src[i]) {
                i += 1;
            }
            Lexeme::Operator
        } else {
            i += 1;
            continue;
        };
        out.push((start, i, kind));
    }
    out
}

#[derive(Clone, Debug)]
enum Mutation {
    /// The k-th number becomes `NUMBERS[n]`.
    Number(usize, usize),
    /// The k-th word becomes the j-th word.
    Word(usize, usize),
    /// The k-th operator becomes `OPERATORS[o]`.
    Operator(usize, usize),
    Truncate(usize),
    Flip(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Insert(usize, usize),
    Splice(usize, usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0..NUMBERS.len()).prop_map(|(k, n)| Mutation::Number(k, n)),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(k, j)| Mutation::Word(k, j)),
        4 => (any::<usize>(), 0..OPERATORS.len()).prop_map(|(k, o)| Mutation::Operator(k, o)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(p, x)| Mutation::Flip(p, x)),
        1 => (any::<usize>(), 1..40usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        1 => (any::<usize>(), 1..200usize, any::<usize>())
            .prop_map(|(p, n, d)| Mutation::Duplicate(p, n, d)),
        1 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        1 => (any::<usize>(), any::<usize>(), any::<usize>(), 1..300usize)
            .prop_map(|(p, f, q, n)| Mutation::Splice(p, f, q, n)),
    ]
}

/// Replaces the k-th lexeme of `kind` (if any) by `text`.
fn replace_lexeme(bytes: &mut Vec<u8>, kind: Lexeme, k: usize, text: &[u8]) {
    let found: Vec<_> = lexemes(bytes).into_iter().filter(|l| l.2 == kind).collect();
    if !found.is_empty() {
        let (start, end, _) = found[k % found.len()];
        bytes.splice(start..end, text.iter().copied());
    }
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
    match *m {
        Mutation::Number(k, n) => replace_lexeme(bytes, Lexeme::Number, k, NUMBERS[n].as_bytes()),
        Mutation::Operator(k, o) => {
            replace_lexeme(bytes, Lexeme::Operator, k, OPERATORS[o].as_bytes())
        }
        Mutation::Word(k, j) => {
            let words: Vec<_> = lexemes(bytes)
                .into_iter()
                .filter(|l| l.2 == Lexeme::Word)
                .collect();
            if !words.is_empty() {
                let (s, e, _) = words[j % words.len()];
                let text = bytes[s..e].to_vec();
                replace_lexeme(bytes, Lexeme::Word, k, &text);
            }
        }
        Mutation::Truncate(p) => {
            let n = at(p, bytes.len());
            bytes.truncate(n);
        }
        Mutation::Flip(p, x) => {
            if !bytes.is_empty() {
                let i = p % bytes.len();
                bytes[i] ^= x;
            }
        }
        Mutation::Delete(p, n) => {
            let i = at(p, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Duplicate(p, n, d) => {
            let i = at(p, bytes.len());
            let end = (i + n).min(bytes.len());
            let chunk = bytes[i..end].to_vec();
            let dest = at(d, bytes.len());
            bytes.splice(dest..dest, chunk);
        }
        Mutation::Insert(p, t) => {
            let i = at(p, bytes.len());
            let tok = format!(" {} ", TOKENS[t]);
            bytes.splice(i..i, tok.bytes());
        }
        Mutation::Splice(p, f, q, n) => {
            let corpus = corpus();
            let other = corpus[f % corpus.len()].as_bytes();
            let from = at(q, other.len());
            let end = (from + n).min(other.len());
            let i = at(p, bytes.len());
            bytes.splice(i..i, other[from..end].iter().copied());
        }
    }
}

/// Compiles `source`; if accepted, explores a bounded part of it with everything a
/// user-facing run touches.
fn exercise(source: &str) {
    let Ok(model) = DveModel::from_source("fuzz.dve", source) else {
        return;
    };
    let init = StateVector::from_slice(model.initial_state());
    let _ = model.render(&init);
    model.successors(&init, &mut |a, s| {
        let _ = model.action_label(a);
        let _ = model.render(s);
    });
    let options = CheckOptions {
        max_states: Some(300),
        max_depth: Some(40),
        ..CheckOptions::default()
    };
    sequential::check(&model, &options).expect("counterexamples replay");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_models_never_panic(
        file in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let corpus = corpus();
        let mut bytes = corpus[file % corpus.len()].clone().into_bytes();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_token_soup_never_panics(tokens in prop::collection::vec(0..TOKENS.len(), 0..80)) {
        let src: Vec<&str> = tokens.iter().map(|&t| TOKENS[t]).collect();
        exercise(&src.join(" "));
    }
}

#[test]
fn every_unmutated_corpus_model_is_accepted() {
    for (i, src) in corpus().iter().enumerate() {
        if let Err(e) = DveModel::from_source("corpus.dve", src) {
            panic!("corpus model {i} rejected: {e}");
        }
        exercise(src);
    }
}
