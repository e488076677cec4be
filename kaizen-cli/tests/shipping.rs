//! What a packaged `kaizen` ships beside its commands: shell completions and manual pages
//! generated from the clap definitions, and `--version` with the commit and backends.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `kaizen ARGS` with no store configured (these commands must not need one).
fn kaizen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kaizen"))
        .args(args)
        .env_remove("KAIZEN_STORE")
        .stdin(Stdio::null())
        .output()
        .expect("run kaizen")
}

#[track_caller]
fn ok_stdout(args: &[&str]) -> String {
    let o = kaizen(args);
    assert!(
        o.status.success(),
        "kaizen {args:?}: exit {:?}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// Every command `kaizen --help` lists, read from its "Commands:" section (so a command
/// added later is checked too).
fn commands() -> Vec<String> {
    let help = ok_stdout(&["--help"]);
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    for known in [
        "ingest",
        "import",
        "scan",
        "sql",
        "report",
        "completions",
        "man",
    ] {
        assert!(names.iter().any(|n| n == known), "{known} not in {names:?}");
    }
    names
}

#[test]
fn completions_for_each_shell_name_every_command() {
    let commands = commands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok_stdout(&["completions", shell]);
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        for name in &commands {
            // Where each shell's script offers a command at the top level (a name in
            // some option's help text would not do).
            let offer = match shell {
                "bash" => format!(" {name} "),
                "zsh" => format!("\n'{name}:"),
                "fish" => format!(" -a \"{name}\" "),
                "powershell" => format!("::new('{name}', '{name}', "),
                _ => format!(" cand {name} '"),
            };
            assert!(
                script.contains(&offer),
                "{shell} completions lack {offer:?}"
            );
        }
        // Options of a command and the global ones, not only the command names (fish
        // spells them without their dashes: `-l skip-invalid`).
        assert!(
            script.contains("skip-invalid"),
            "{shell}: no --skip-invalid"
        );
        assert!(
            script.contains("store-option"),
            "{shell}: no --store-option"
        );
    }
}

#[test]
fn completions_refuse_an_unknown_shell() {
    let o = kaizen(&["completions", "tcsh"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tcsh") && err.contains("bash"), "{err}");
}

/// bash accepts the script, and completing `kaizen sc` offers `scan` (the completion
/// function run as bash runs it for a Tab). Skipped where bash is not installed.
#[test]
fn bash_completion_parses_and_completes() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("bash not found: skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("kaizen.bash");
    std::fs::write(&script, ok_stdout(&["completions", "bash"])).expect("write");

    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash -n");
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let complete = |words: &str| -> Vec<String> {
        let program = format!(
            "source {script}\n\
             COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n\
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}\n\
             _kaizen kaizen \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script = shell_quote(&script),
        );
        let o = Command::new("bash")
            .arg("--norc")
            .arg("-c")
            .arg(program)
            .output()
            .expect("bash");
        assert!(
            o.status.success(),
            "completing {words}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    };
    assert_eq!(complete("kaizen sc"), ["scan"]);
    let top = complete("kaizen ''");
    for name in commands() {
        assert!(
            top.contains(&name),
            "`kaizen <Tab>` does not offer {name}: {top:?}"
        );
    }
    let import = complete("kaizen import --skip-");
    assert!(import.contains(&"--skip-invalid".to_owned()), "{import:?}");
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn man_page_lists_every_command() {
    let page = ok_stdout(&["man"]);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80]
    );
    assert!(page.contains("\n.TH kaizen 1 "), "no title line");
    // Each command with its own page's name (roff escapes the hyphen).
    for name in commands() {
        let entry = format!("\nkaizen\\-{name}(1)\n");
        assert!(page.contains(&entry), "man page lacks {entry:?}");
    }
    assert!(
        page.contains("\\-\\-store\\-option"),
        "no --store-option in the page"
    );
}

#[test]
fn man_page_of_one_command() {
    let page = ok_stdout(&["man", "import"]);
    assert!(page.contains("\n.TH kaizen-import 1 "), "{}", &page[..200]);
    // Its own options and the global ones.
    assert!(page.contains("\\-\\-skip\\-invalid"), "no --skip-invalid");
    assert!(page.contains("\\-\\-store"), "no --store");

    let o = kaizen(&["man", "nosuch"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("kaizen man nosuch: no such command") && err.contains("import"),
        "{err}"
    );
}

/// The page is valid roff: groff formats it without a warning (`-k`: the text is UTF-8, as
/// `man` reads it). Skipped without groff.
#[test]
fn man_page_formats_with_groff() {
    if Command::new("groff").arg("--version").output().is_err() {
        eprintln!("groff not found: skipped");
        return;
    }
    for args in [&["man"][..], &["man", "sql"][..]] {
        let page = ok_stdout(args);
        let mut child = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("groff");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), page.as_bytes())
            .expect("write");
        let o = child.wait_with_output().expect("groff output");
        let warnings = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() && warnings.trim().is_empty(),
            "groff on kaizen {args:?}: {warnings}"
        );
    }
}

/// `kaizen 0.1.0 (commit 76affc4cbc4a-dirty; backends: local, memory, s3, gcs, azure)`.
#[test]
fn version_names_commit_and_backends() {
    let line = ok_stdout(&["--version"]);
    assert_eq!(ok_stdout(&["-V"]), line);
    let line = line.trim_end();
    let rest = line
        .strip_prefix(&format!("kaizen {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{line:?}"));
    let (commit, backends) = rest
        .strip_suffix(')')
        .and_then(|r| r.split_once("; backends: "))
        .unwrap_or_else(|| panic!("{line:?}"));
    let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
    assert!(
        hash == "unknown" || (hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit())),
        "commit {commit:?} in {line:?}"
    );
    assert_eq!(backends, "local, memory, s3, gcs, azure");

    // Built from this repository (git present): the commit is its HEAD (cargo reruns the
    // build script when HEAD moves).
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(head) = head
        && head.status.success()
    {
        assert_eq!(hash, String::from_utf8_lossy(&head.stdout).trim(), "{line}");
    }
}
