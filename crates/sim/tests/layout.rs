//! Tidy check: the module order documented under `# Layout` in `src/lib.rs` is the
//! order of the code. Every module uses (`crate::<module>`) only modules listed
//! before it, so the dependencies run one way and a cycle cannot come back unseen.
//!
//! It reads the sources as text, as rust-analyzer's tidy tests do: comment lines are
//! skipped, code and tests are both checked. A module is a file `src/<name>.rs` or a
//! directory `src/<name>/`; its submodules reach each other with `super::`.

use std::fs;
use std::path::{Path, PathBuf};

#[test]
fn modules_use_only_modules_listed_before_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).expect("read src/lib.rs");
    let order = documented_order(&lib);

    let mut declared = declared_modules(&lib);
    let mut listed = order.clone();
    declared.sort();
    listed.sort();
    assert_eq!(
        listed, declared,
        "the `# Layout` list in src/lib.rs must name every module `lib.rs` declares"
    );

    let mut errors = Vec::new();
    for (rank, module) in order.iter().enumerate() {
        for file in module_files(&src, module) {
            let text = fs::read_to_string(&file).expect("read a source file");
            for (line_no, used) in crate_uses(&text) {
                let path = file.strip_prefix(&src).unwrap_or(&file);
                let at = format!("src/{}:{line_no}", path.display());
                match order.iter().position(|m| *m == used) {
                    Some(used_rank) if used_rank < rank || used == *module => {}
                    Some(_) => errors.push(format!(
                        "{at}: `{module}` uses `crate::{used}`, which is not listed before it"
                    )),
                    None => errors.push(format!(
                        "{at}: `crate::{used}` is not a module of the layout (name the module \
                         that defines it, one `use crate::<module>` per module)"
                    )),
                }
            }
        }
    }
    assert!(errors.is_empty(), "layering broken:\n{}", errors.join("\n"));
}

/// The backquoted names that start the `- ` items of `//! # Layout`, in order.
fn documented_order(lib: &str) -> Vec<String> {
    let section = lib
        .lines()
        .skip_while(|line| *line != "//! # Layout")
        .skip(1)
        .take_while(|line| line.starts_with("//!") && !line.starts_with("//! #"));
    let order: Vec<String> = section
        .filter_map(|line| line.strip_prefix("//! - `"))
        .filter_map(|item| item.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect();
    assert!(
        order.len() > 1,
        "no `# Layout` list of modules in src/lib.rs"
    );
    order
}

/// The `mod x;` and `pub mod x;` lines of `lib.rs`.
fn declared_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|line| {
            let line = line.strip_prefix("pub ").unwrap_or(line);
            line.strip_prefix("mod ")?.strip_suffix(';')
        })
        .map(str::to_owned)
        .collect()
}

/// `src/<module>.rs`, or every `.rs` file under `src/<module>/`.
fn module_files(src: &Path, module: &str) -> Vec<PathBuf> {
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut files = Vec::new();
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("a module file or directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "module `{module}` has no source files");
    files.sort();
    files
}

/// (line number, module) for every `crate::<module>` outside comment lines. A
/// grouped `use crate::{…}` yields `{`, which is reported as not a module.
fn crate_uses(text: &str) -> Vec<(usize, String)> {
    let mut uses = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = rest.get(..end.max(1)).unwrap_or_default();
            uses.push((i + 1, name.to_owned()));
        }
    }
    uses
}
