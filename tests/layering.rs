//! The runtime's layers, checked on its source: the core (`core/`: cell, mailbox, registry, dead
//! letters) imports nothing of the layers built on it; the actors (`actor/`), the broker (`broker/`)
//! and supervision (`supervisor/`) build on the core; the system (`system.rs`) is the facade on top,
//! which no other layer imports but the test kit (`testkit/`), which nothing imports. ARCHITECTURE.md draws the layers.

use std::path::{Path, PathBuf};

/// The modules of `actor/` that the core may use: the vocabulary it stores (the `Actor` trait, an
/// actor's identity, stop reasons and errors, the reply channel of an ask, the running actor).
const ACTOR_VOCABULARY: &[&str] = &["identity", "error", "reply", "running"];

/// Items of `actor/mod.rs` itself (the trait and what `#[actor]` generates) the core may name.
const ACTOR_ROOT_ITEMS: &[&str] = &[
    "Actor",
    "HandledMessage",
    "ActorId",
    "StopReason",
    "ActorPanic",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::a::b` path in the code of `source` (not in comments, not in test modules), as
/// `(line, ["a", "b"])`.
fn crate_paths(source: &str) -> Vec<(usize, Vec<String>)> {
    let mut paths = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") || code.starts_with("#[cfg(all(test") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let path: Vec<String> = after
                .split("::")
                .map(|segment| {
                    segment
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '{')
                        .collect::<String>()
                })
                .take_while(|segment| !segment.is_empty())
                .map(|segment| segment.trim_start_matches('{').to_owned())
                .take(2)
                .collect();
            paths.push((number + 1, path));
            rest = after;
        }
    }
    paths
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("airssys-rt/src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(
        files.len() > 30,
        "the runtime's sources were not found in {root:?}"
    );
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let layer = relative.split('/').next().unwrap().trim_end_matches(".rs");
        let source = std::fs::read_to_string(file).unwrap();
        for (line, path) in crate_paths(&source) {
            let first = path.first().map(String::as_str).unwrap_or("");
            let second = path.get(1).map(String::as_str).unwrap_or("");
            let refused = match (layer, first) {
                // The facade: only the crate root re-exports it, and the test kit builds on it.
                (_, "system") => relative != "lib.rs" && layer != "testkit",
                // The test kit is on top of everything: nothing in the runtime depends on it.
                (_, "testkit") => layer != "testkit",
                ("core", "broker") => true,
                // The supervision counters and event sink the core holds for the supervisors.
                ("core", "supervisor") => second != "Supervision",
                ("core", "actor") => {
                    !ACTOR_VOCABULARY.contains(&second) && !ACTOR_ROOT_ITEMS.contains(&second)
                }
                ("actor", "broker") | ("actor", "supervisor") => true,
                _ => false,
            };
            if refused {
                wrong.push(format!("{relative}:{line}: crate::{}", path.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering (core <- actor <- broker, supervisor <- system):\n{}",
        wrong.join("\n")
    );
}
