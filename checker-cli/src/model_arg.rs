//! The MODEL argument of `check` and `ceiling` (and so of `bench`, whose children they
//! are): a bundled model and its parameters, or the path of a DVE file.

use crate::output::outln;
use std::path::Path;

use fixtures::ModelVisitor;

use crate::error::CliError;

/// Whether the first word of a model argument names a DVE file rather than a bundled
/// model: it ends in `.dve` or contains a `/`.
pub fn is_dve_path(word: &str) -> bool {
    word.ends_with(".dve") || word.contains('/')
}

/// Builds the model `spec` names (`spec[0]` a bundled model name or a DVE path, the
/// rest its parameters) and hands it to `visitor`. A DVE model's notices (e.g. a
/// construct it reads in a restricted form) are printed first, one `Note:` line each.
pub fn with_any_model<V: ModelVisitor>(spec: &[String], visitor: V) -> Result<V::Output, CliError> {
    let (name, params) = spec
        .split_first()
        .ok_or_else(|| CliError::Input("no model given".into()))?;
    if !is_dve_path(name) {
        return fixtures::with_model(name, params, visitor).map_err(|e| match e {
            // A file of that name is likely a DVE model whose name does not say so.
            fixtures::FixtureError::UnknownModel(_) if Path::new(name).is_file() => {
                CliError::Input(format!(
                    "{e}; a file of that name exists: to check it as a DVE model, give its name a `.dve` suffix or its path a `/`"
                ))
            }
            e => e.into(),
        });
    }
    if !params.is_empty() {
        return Err(CliError::Input(format!(
            "{name}: a DVE model takes no parameters, got `{}`",
            params.join(" ")
        )));
    }
    let model = checker_dve::DveModel::from_file(Path::new(name))
        .map_err(|e| CliError::Input(e.to_string()))?;
    for notice in model.notices() {
        outln!("Note: {notice}");
    }
    Ok(visitor.visit(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dve_paths_are_told_from_bundled_names() {
        assert!(is_dve_path("at.4.dve"));
        assert!(is_dve_path("../models/at"));
        assert!(!is_dve_path("twophase"));
    }

    struct Name;
    impl ModelVisitor for Name {
        type Output = String;
        fn visit<M: checker_core::Model + 'static>(self, model: M) -> String {
            model.name()
        }
    }

    #[test]
    fn builds_bundled_models_and_refuses_bad_ones() {
        let words = |s: &str| -> Vec<String> { s.split_whitespace().map(String::from).collect() };
        assert_eq!(
            with_any_model(&words("twophase 3"), Name).unwrap(),
            "twophase 3"
        );
        let refused = |s: &str| with_any_model(&words(s), Name).unwrap_err().to_string();
        assert_eq!(
            refused("x.dve 3"),
            "x.dve: a DVE model takes no parameters, got `3`"
        );
        assert!(
            refused("no/such/file.dve").contains("no/such/file.dve"),
            "{}",
            refused("no/such/file.dve")
        );
        assert!(refused("nosuchmodel").contains("nosuchmodel"));
        assert_eq!(
            with_any_model(&[], Name).unwrap_err().to_string(),
            "no model given"
        );
    }
}
