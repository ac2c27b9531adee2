//! The registry's own rules: each entry well-formed, the way Python requires of a `def`.

use super::binder::by_position;
use super::*;

fn every_def() -> impl Iterator<Item = &'static Def> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

#[test]
fn every_name_is_declared_once_and_found() {
    let mut seen = std::collections::HashSet::new();
    for def in every_def() {
        assert!(!def.names.is_empty());
        for name in def.names {
            assert!(seen.insert(*name), "'{name}' is declared twice");
            assert!(
                std::ptr::eq(lookup(name).unwrap(), def),
                "'{name}' finds another entry"
            );
        }
    }
    assert_eq!(seen.len(), names().count());
}

#[test]
fn parameters_are_ordered_as_python_requires() {
    for def in every_def() {
        let name = def.names[0];
        let kinds: Vec<Kind> = def.params.iter().map(|p| p.kind).collect();
        let rank = |k: &Kind| match k {
            Kind::Positional => 0,
            Kind::Either => 1,
            Kind::Star => 2,
            Kind::Keyword => 3,
        };
        assert!(
            kinds.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
            "{name}: positional-only, then either, then *args, then keyword-only"
        );
        assert!(
            kinds.iter().filter(|k| **k == Kind::Star).count() <= 1,
            "{name}: two *args"
        );
        let by_position = &def.params[..by_position(def)];
        let first_default = by_position.iter().position(|p| p.default.is_some());
        if let Some(k) = first_default {
            assert!(
                by_position[k..].iter().all(|p| p.default.is_some()),
                "{name}: a required parameter after an optional one"
            );
        }
        if matches!(def.arrays, Arrays::Elementwise(_)) {
            assert!(
                def.params.iter().all(|p| p.kind == Kind::Positional),
                "{name}: a ufunc's operands are positional (they are mapped over arrays)"
            );
        }
    }
}

#[test]
fn help_lines_are_sentences_with_signatures() {
    for def in every_def() {
        let name = def.names[0];
        assert!(def.help.ends_with('.'), "{name}: the help is a sentence");
        let sig = def.signature();
        assert!(
            sig.starts_with(&format!("{name}(")) && sig.ends_with(')'),
            "{sig}"
        );
    }
}

#[test]
fn a_function_is_either_supported_or_not() {
    for (names, _) in unsupported::INSTEAD {
        for name in *names {
            assert!(
                lookup(name).is_none(),
                "'{name}' is a builtin and listed as missing"
            );
        }
    }
}

#[test]
fn signatures_use_pythons_notation() {
    let sig = |n: &str| lookup(n).unwrap().signature();
    assert_eq!(sig("sqrt"), "sqrt(x, /)");
    assert_eq!(sig("zeros"), "zeros(shape, dtype=f64)");
    assert_eq!(sig("min"), "min(*args, axis=None)");
    assert_eq!(
        sig("imshow"),
        "imshow(X, /, *, cmap='viridis', title=None, xlabel=None, ylabel=None)"
    );
    assert_eq!(help("acos").unwrap().0, "arccos(x, /)  (also acos)");
}

#[test]
fn constants_have_help_and_values() {
    assert_eq!(help("pi").unwrap().0, "pi = 3.141592653589793");
    assert!(constant("Inf").is_some() && constant("True").is_some() && constant("tau").is_none());
    for c in constants::CONSTANTS {
        assert!(
            lookup(c.names[0]).is_none(),
            "{} is a constant and a function",
            c.names[0]
        );
        assert!(c.help.ends_with('.'));
    }
}
