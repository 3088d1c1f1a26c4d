//! A program that hard-codes `/tmp`, where no file system of its own can be built (a
//! platform's container): the interposed library moves `/tmp` to the folder
//! `SOCKET_LAB_FILES` names (`folder=/tmp>OWN`), and the program sees one consistent
//! folder there: what it makes, finds, lists, renames and removes, and its temporary files
//! (`mkstemp`, `mkdtemp`, `tmpfile`), named pipes, and what a program it runs with an
//! environment of its own makes there, with the names it asked for. Nothing reaches the
//! machine's `/tmp`. Shown in Python and in C (gcc), run here with the library preloaded;
//! in a real container by `container.rs` (the hard-coded-port sample's web server logs
//! under `/tmp`).

use std::path::Path;
use std::process::Command;

use crate::common;

/// A name under `/tmp` no other run uses.
fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("socket-lab-moved-{}-{nanos}", std::process::id())
}

/// Runs `program` with the library preloaded and `/tmp` moved to `own`; its stdout.
fn run_moved(program: &mut Command, own: &Path) -> String {
    let library = sandbox::interposed_library(&common::kit_root()).expect("the library is built");
    let output = program
        .env("LD_PRELOAD", library)
        .env(
            sandbox::FILES_VARIABLE,
            format!("folder=/tmp>{}", own.display()),
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

const PYTHON: &str = r#"
import os, shutil, sys, tempfile
top = "/tmp/" + sys.argv[1]
os.makedirs(top + "/cache/pages")
with open(top + "/cache/pages/a.html", "w") as page:
    page.write("hello")
print(os.path.exists(top + "/cache/pages/a.html"), os.listdir(top + "/cache/pages"))
shutil.make_archive(top + "/notes", "zip", top + "/cache")
print(os.path.getsize(top + "/notes.zip") > 0)
handle, name = tempfile.mkstemp(dir=top, prefix="upload-")
print(name.startswith(top + "/upload-"), os.path.isfile(name))
os.rename(top + "/cache/pages/a.html", top + "/cache/b.html")
print(open(top + "/cache/b.html").read())
shutil.rmtree(top + "/cache")
print(sorted(entry for entry in os.listdir(top) if not entry.startswith("upload-")))
# A program it runs with an environment of its own finds the same /tmp.
import subprocess
subprocess.run(["/bin/sh", "-c", "echo child > " + top + "/child.txt"], env={"PATH": "/usr/bin:/bin"}, check=True)
print(open(top + "/child.txt").read().strip())
# The space left where it writes (statvfs64, what Python calls).
print(os.statvfs(top).f_bsize > 0)
"#;

#[test]
fn a_python_program_finds_its_hard_coded_tmp_in_its_own_folder() {
    let own = tempfile::tempdir().unwrap();
    let name = unique_name();
    let stdout = run_moved(
        Command::new("/usr/bin/python3").args(["-c", PYTHON, &name]),
        own.path(),
    );
    assert_eq!(
        stdout,
        "True ['a.html']\nTrue\nTrue True\nhello\n['notes.zip']\nchild\nTrue\n"
    );
    assert!(own.path().join(&name).join("notes.zip").is_file());
    assert!(own.path().join(&name).join("child.txt").is_file());
    assert!(
        !Path::new("/tmp").join(&name).exists(),
        "reached the machine's /tmp"
    );
}

const C_PROGRAM: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char top[256], file[300], template[300], folder[300];
    snprintf(top, sizeof top, "/tmp/%s", argv[1]);
    if (mkdir(top, 0700) != 0) { perror("mkdir"); return 1; }
    snprintf(file, sizeof file, "%s/log.txt", top);
    FILE *log = fopen(file, "w");
    if (!log) { perror("fopen"); return 1; }
    fputs("logged\n", log);
    fclose(log);
    struct stat status;
    printf("%d %d\n", stat(file, &status) == 0 && status.st_size == 7, access(file, R_OK) == 0);
    snprintf(template, sizeof template, "%s/upload-XXXXXX", top);
    int fd = mkstemp(template);
    printf("%d %d %d\n", fd >= 0, strncmp(template, top, strlen(top)) == 0, stat(template, &status) == 0);
    snprintf(folder, sizeof folder, "%s/dir-XXXXXX", top);
    printf("%d %d\n", mkdtemp(folder) == folder, strncmp(folder, top, strlen(top)) == 0);
    FILE *scratch = tmpfile();
    printf("%d\n", scratch != NULL && fputs("x", scratch) >= 0);
    char fifo[300], resolved[4096];
    snprintf(fifo, sizeof fifo, "%s/pipe", top);
    int made = mkfifo(fifo, 0600) == 0;
    printf("%d %d\n", made, realpath(fifo, resolved) != NULL && strstr(resolved, argv[1]) != NULL);
    struct dirent **entries;
    struct statvfs space;
    int listed = scandir(top, &entries, NULL, alphasort);
    printf("%d %d\n", listed == 6, statvfs(top, &space) == 0);
    unlink(fifo);
    printf("%d %d %d\n", unlink(template) == 0, rmdir(folder) == 0, unlink(file) == 0);
    printf("%d\n", rmdir(top) == 0);
    return 0;
}
"#;

#[test]
fn a_c_program_finds_its_hard_coded_tmp_in_its_own_folder() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("moved.c"), C_PROGRAM).unwrap();
    let built = Command::new("gcc")
        .current_dir(work.path())
        // `_FORTIFY_SOURCE`: realpath into an array is then `__realpath_chk`.
        .args(["-O2", "-D_FORTIFY_SOURCE=2", "-o", "moved", "moved.c"])
        .status()
        .expect("gcc is installed (bash .ci/test installs it)");
    assert!(built.success());
    let own = tempfile::tempdir().unwrap();
    let name = unique_name();
    let stdout = run_moved(
        Command::new(work.path().join("moved")).arg(&name),
        own.path(),
    );
    assert_eq!(stdout, "1 1\n1 1 1\n1 1\n1\n1 1\n1 1\n1 1 1\n1\n");
    assert!(
        !Path::new("/tmp").join(&name).exists(),
        "reached the machine's /tmp"
    );
    // Everything it made, it removed, in its own folder; `tmpfile`'s had no name.
    assert_eq!(std::fs::read_dir(own.path()).unwrap().count(), 0);
}
