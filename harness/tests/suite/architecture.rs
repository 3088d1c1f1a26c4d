//! The harness's files import each other without cycles: each file (a module) names others
//! as `crate::a::b` or `super::b`, and following those names never leads back to where it
//! started. A module's `mod.rs` declaring its children is not an import; comments and unit
//! test modules (at a file's end, or a file its parent declares `#[cfg(test)] mod name;`)
//! are left out.
//!
//! The same holds between the top-level modules (`engine`, `steps`, `world`...): a folder
//! uses only folders below it, in the order `lib.rs` lists them. The record of a run
//! (`harness/record`), the reports (`harness/reports`) and the MySQL pack's SQL engine
//! (`harness/mysql-engine`) are crates of their own, which the compiler keeps below the
//! harness; the files inside each are held to the same rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
pub(crate) fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// The module path of a file: `engine/finish` for `src/engine/finish.rs`, `steps/checks` for
/// `src/steps/checks/mod.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let text = relative.to_string_lossy().replace('\\', "/");
    text.strip_suffix("/mod").unwrap_or(&text).to_owned()
}

/// The longest known module that `path` (`a::b::Item`) starts with.
fn resolve(modules: &BTreeSet<String>, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|count| parts[..count].join("/"))
        .find(|candidate| modules.contains(candidate))
}

/// Which modules each module of the harness names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    imports_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// Which modules each module of the crate whose sources are `src` names.
fn imports_in(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|file| module_of(src, file)).collect();
    let comment = regex::Regex::new(r"//[^\n]*").unwrap();
    let crate_path = regex::Regex::new(r"\bcrate::([a-z_]+(?:::[a-z_]+)*)").unwrap();
    let super_path = regex::Regex::new(r"\bsuper::([a-z_]+(?:::[a-z_]+)*)").unwrap();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let text = std::fs::read_to_string(file).unwrap();
        let code = without_tests(file, &text);
        let code = comment.replace_all(code, "");
        // `super` of `a/b.rs` is `a`; of `a/b/mod.rs` (module `a/b`) it is `a` too.
        let parent = module.rsplit_once('/').map(|(parent, _)| parent.to_owned());
        let mut named = BTreeSet::new();
        for found in crate_path.captures_iter(&code) {
            named.extend(resolve(&modules, &found[1]));
        }
        for found in super_path.captures_iter(&code) {
            let path = match &parent {
                Some(parent) => format!("{}::{}", parent.replace('/', "::"), &found[1]),
                None => found[1].to_owned(),
            };
            named.extend(resolve(&modules, &path));
        }
        named.remove(&module);
        graph.insert(module, named);
    }
    graph
}

/// A cycle through `start`, if there is one: the modules in order.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    // Depth-first search for a path back to `start`.
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((module, path)) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == start {
                return Some(path.iter().cloned().chain([next.clone()]).collect());
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

/// Every cycle of `graph`, one through each module on one, written `a -> b -> a`.
fn cycles_in(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    graph
        .keys()
        .filter_map(|module| cycle_from(graph, module))
        .map(|cycle| cycle.join(" -> "))
        .collect()
}

#[test]
fn no_file_of_the_harness_imports_itself_back() {
    let graph = imports();
    assert!(graph.len() > 50, "the scan found the harness's files");
    assert!(
        graph["engine"].contains("judge/output"),
        "the scan sees the engine's imports"
    );
    let cycles = cycles_in(&graph);
    assert!(
        cycles.is_empty(),
        "import cycles between the harness's files:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn no_file_of_the_record_the_reports_or_the_mysql_engine_imports_itself_back() {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, graph, sees) in [
        (
            "record",
            imports_in(&harness.join("record/src")),
            ("outcome", "exit"),
        ),
        (
            "reports",
            imports_in(&harness.join("reports/src")),
            ("json", "diagnosis"),
        ),
        (
            "MySQL engine",
            imports_in(&harness.join("mysql-engine/src")),
            ("engine", "insert"),
        ),
    ] {
        assert!(
            graph[sees.0].contains(sees.1),
            "the scan sees the {name} crate's imports"
        );
        let cycles = cycles_in(&graph);
        assert!(
            cycles.is_empty(),
            "import cycles between the {name} crate's files:\n{}",
            cycles.join("\n")
        );
    }
}

/// The top-level module a module is in: `steps` for `steps/checks/browser`.
fn top_level(module: &str) -> &str {
    module.split('/').next().unwrap_or(module)
}

#[test]
fn no_top_level_module_of_the_harness_imports_itself_back() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, named) in imports() {
        let from = top_level(&module).to_owned();
        let targets = graph.entry(from.clone()).or_default();
        targets.extend(
            named
                .iter()
                .map(|other| top_level(other).to_owned())
                .filter(|other| *other != from),
        );
    }
    assert!(
        graph["engine"].contains("steps") && graph["scenario"].contains("steps"),
        "the scan sees imports between top-level modules"
    );
    let cycles = cycles_in(&graph);
    assert!(
        cycles.is_empty(),
        "import cycles between the harness's top-level modules:\n{}",
        cycles.join("\n")
    );
}

/// The text of a file up to its unit tests (`#[cfg(test)] mod tests { ... }` at its end);
/// nothing of a file that is all tests ([`test_only`]), which may import what it likes: it
/// is built into no harness.
fn without_tests<'t>(file: &Path, text: &'t str) -> &'t str {
    if test_only(file) {
        return "";
    }
    text.split("#[cfg(test)]\nmod tests {")
        .next()
        .unwrap_or_default()
}

/// Whether `file` is a module its parent declares for tests only (`#[cfg(test)]` then
/// `mod name;`), or lies inside one.
fn test_only(file: &Path) -> bool {
    let declared =
        regex::Regex::new(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z ]+\))?\s+)?mod ([a-z0-9_]+);")
            .unwrap();
    // Each module, from the file up: its name, and the files that could declare it.
    let mut module = file.to_owned();
    loop {
        let name = match module.file_stem().and_then(|stem| stem.to_str()) {
            Some("mod") => module.parent().and_then(|dir| dir.file_name()),
            _ => module.file_stem(),
        };
        let Some(name) = name.and_then(|name| name.to_str()) else {
            return false;
        };
        if matches!(name, "lib" | "main" | "src") {
            return false;
        }
        // `a/b.rs` and `a/b/mod.rs` are declared by `a.rs` or `a/mod.rs` (or `lib.rs`).
        let folder = if module.file_stem().is_some_and(|stem| stem == "mod") {
            module.parent().and_then(Path::parent)
        } else {
            module.parent()
        };
        let Some(folder) = folder else {
            return false;
        };
        let parents = [
            folder.join("mod.rs"),
            folder.join("lib.rs"),
            folder.with_extension("rs"),
        ];
        let Some(parent) = parents.into_iter().find(|parent| parent.is_file()) else {
            return false;
        };
        let text = std::fs::read_to_string(&parent).unwrap();
        if declared.captures_iter(&text).any(|found| &found[1] == name) {
            return true;
        }
        module = parent;
    }
}

/// A file's code without its comments and its unit tests.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let code = without_tests(file, &text);
    regex::Regex::new(r"//[^\n]*")
        .unwrap()
        .replace_all(code, "")
        .into_owned()
}

/// The module (`a/b`) a declaration with `visibility` (`""`, `"(crate)"`, `"(super)"`,
/// `"(in crate::a::b)"`) in `module` reaches: `""` for the whole crate.
fn reach_of(visibility: &str, module: &str) -> String {
    match visibility {
        "" | "(crate)" => String::new(),
        "(super)" => module
            .rsplit_once('/')
            .map_or(String::new(), |(parent, _)| parent.to_owned()),
        _ => visibility
            .trim_start_matches("(in crate::")
            .trim_end_matches(')')
            .replace("::", "/"),
    }
}

/// Whether `module` is `reach` or inside it.
fn within(module: &str, reach: &str) -> bool {
    reach.is_empty() || module == reach || module.starts_with(&format!("{reach}/"))
}

/// A protocol pack is a unit (`src/protocols/`, one folder each): no file outside a
/// pack's folder names a type the pack declares, and only the registry
/// (`src/protocols/mod.rs`) names the pack's modules (as `crate::protocols::pack` or
/// `super::pack`, resolved as the import graph does). The rest of the harness knows a pack
/// by its key and holds what it loads as trait objects, so adding a protocol is its folder
/// and one registry line. A type's name is looked for only where its visibility reaches
/// (`pub(super)` in `protocols/pop3/mod.rs`: `src/protocols/`; in `protocols/pop3/x.rs`:
/// the pack alone, nowhere to look): elsewhere the compiler keeps it out, and another
/// crate's `Command` or `Arg` there is not the pack's.
#[test]
fn no_file_outside_a_protocol_pack_names_its_types() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let registry = src.join("protocols").join("mod.rs");
    let mut packs = Vec::new();
    for entry in std::fs::read_dir(src.join("protocols")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            packs.push(path);
        }
    }
    packs.sort();
    let mut all = Vec::new();
    rust_files(&src, &mut all);
    let declared = regex::Regex::new(
        r"\bpub(\((?:crate|super|in [a-z_:]+)\))?\s+(?:struct|enum|trait|type)\s+([A-Z][A-Za-z0-9_]*)",
    )
    .unwrap();
    let graph = imports();
    let mut leaks = Vec::new();
    for pack in &packs {
        let pack_name = pack.file_name().unwrap().to_string_lossy().into_owned();
        let mut inside = Vec::new();
        rust_files(pack, &mut inside);
        // (name, the module its visibility reaches: "" for the whole crate)
        let types: BTreeSet<(String, String)> = inside
            .iter()
            .flat_map(|file| {
                let module = module_of(&src, file);
                declared
                    .captures_iter(&code_of(file))
                    .map(|found| {
                        let visibility = found.get(1).map_or("", |text| text.as_str());
                        (found[2].to_owned(), reach_of(visibility, &module))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        if pack_name == "smtp" {
            assert!(
                types.contains(&("SmtpScript".to_owned(), "protocols".to_owned())),
                "the scan finds a pack's types: {types:?}"
            );
        }
        let pack_module = format!("protocols/{pack_name}");
        for file in all.iter().filter(|file| !file.starts_with(pack)) {
            let code = code_of(file);
            let module = module_of(&src, file);
            // The pack's types this file could name (a pack may declare none).
            let names: Vec<&str> = types
                .iter()
                .filter(|(_, reach)| within(&module, reach))
                .map(|(name, _)| name.as_str())
                .collect();
            let named = (!names.is_empty())
                .then(|| regex::Regex::new(&format!(r"\b(?:{})\b", names.join("|"))).unwrap());
            let mut found: Vec<String> = named
                .iter()
                .flat_map(|named| named.find_iter(&code))
                .map(|name| name.as_str().to_owned())
                .collect();
            if *file != registry {
                found.extend(
                    graph[&module]
                        .iter()
                        .filter(|named| {
                            **named == pack_module || named.starts_with(&format!("{pack_module}/"))
                        })
                        .map(|named| named.replace('/', "::")),
                );
            }
            for name in found {
                leaks.push(format!(
                    "{} names `{name}` of the {pack_name} pack",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    let names: Vec<String> = packs
        .iter()
        .map(|pack| pack.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        ["http", "ping", "smtp"]
            .iter()
            .all(|pack| names.contains(&pack.to_string())),
        "the scan finds the packs: {names:?}"
    );
    assert!(
        leaks.is_empty(),
        "types of a protocol pack named outside its folder:\n{}",
        leaks.join("\n")
    );
}
