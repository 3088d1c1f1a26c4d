//! `--gradebook FILE.csv`: one row per submission, with per-task and total points.
//!
//! Columns: `submission`, one per selected task (points earned; the header says out of
//! how many: `message (/45)`), `total`, `max`, `extra` (extra points earned), `passed`,
//! `failed`, `skipped`, `not_submitted` (tasks with no program, `;`-separated) and
//! `problem` (why a folder could not be graded at all). Points count as in every report
//! ([`super::score`]): a scenario this run could not play is in no one's `max`, one a
//! submission lacks a program for stays in it. Rows are sorted by submission, so
//! the same submissions give the same file whatever order they finished in. A submission
//! is named by its folder (`alice`, not `/home/ta/lab1/subs/alice`). A cell that would
//! start a formula in a spreadsheet (a folder named `=HYPERLINK(…)`) is written as quoted
//! text, `"'=HYPERLINK(…)"` ([`super::csv_text`]), in every file of this module.
//!
//! With `--roster ROSTER.csv` ([`Roster`]), the run also goes into two files a learning
//! management system imports as they are, beside the gradebook ([`LmsReport`]):
//!
//! - `GRADEBOOK.canvas.csv`, Canvas's gradebook import
//!   (<https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807>):
//!   the columns `Student,ID,SIS User ID,SIS Login ID,Section`, by which Canvas finds the
//!   student (its `ID` first, then the SIS ids), then one column named for the assignment
//!   (`--assignment`, default `Socket lab`) holding the points earned. A second row,
//!   `Points Possible`, gives the maximum, as in the files Canvas exports; Canvas uses it
//!   when the import creates the assignment.
//! - `GRADEBOOK.moodle.csv`, Moodle's grade import from CSV
//!   (<https://docs.moodle.org/en/Grade_import>): `Full name,Email address,Username,ID
//!   number`, then the assignment's column. On import, map one identifier column to the
//!   user field it holds ("Map from" `Email address`, "Map to" `useremail`; or `username`,
//!   `useridnumber`), and the assignment's column to a grade item (a new one, or the
//!   lab's).
//!
//! Both hold every student of the roster, in the roster's order; one whose folder is not in
//! the run earned 0 (the run says so on stderr), and a folder in no roster row is left out
//! of both (said too).

use std::io;
use std::path::{Path, PathBuf};

use super::csv_text::CsvText;
use super::{FileReport, RunRecord, Score};

/// The `--gradebook` reporter: [`render`] written to `path` when the run is over.
pub fn report(path: PathBuf) -> FileReport<Vec<u8>> {
    FileReport::new(path, render)
}

/// Every task any submission was graded on, with its total: the same for everyone, as
/// what this run cannot play is out of every total and what a submission lacks is in its
/// own. A task nobody submitted is worth what the grader said it was. Their sum is the
/// class's maximum, the `max` column and the Canvas file's `Points Possible`.
fn class_tasks(run: &RunRecord) -> Vec<(String, u32)> {
    let mut tasks: Vec<(String, u32)> = Vec::new();
    for submission in &run.submissions {
        for task in Score::of(&submission.outcomes).tasks {
            if !tasks.iter().any(|(name, _)| *name == task.task) {
                tasks.push((task.task, task.total));
            }
        }
    }
    for submission in &run.submissions {
        for (task, points) in &submission.info.not_submitted_points {
            if !tasks.iter().any(|(name, _)| name == task) {
                tasks.push((task.clone(), *points));
            }
        }
    }
    tasks
}

/// The gradebook of `run` as CSV text.
pub fn render(run: &RunRecord) -> io::Result<Vec<u8>> {
    let tasks = class_tasks(run);
    let mut csv = CsvText::new();
    let mut header = vec!["submission".to_string()];
    header.extend(
        tasks
            .iter()
            .map(|(task, total)| format!("{task} (/{total})")),
    );
    header.extend(
        [
            "total",
            "max",
            "extra",
            "passed",
            "failed",
            "skipped",
            "not_submitted",
            "problem",
        ]
        .map(String::from),
    );
    csv.row(&header);
    let mut submissions: Vec<_> = run.submissions.iter().collect();
    submissions.sort_by(|a, b| a.info.submission.cmp(&b.info.submission));
    let max = maximum(&tasks);
    for submission in submissions {
        let score = Score::of(&submission.outcomes);
        let mut row = vec![submission.info.submission.clone()];
        for (task, _) in &tasks {
            let earned = score
                .tasks
                .iter()
                .find(|scored| scored.task == *task)
                .map_or(0, |scored| scored.earned);
            row.push(earned.to_string());
        }
        row.extend([
            score.earned.to_string(),
            max.to_string(),
            score.extra_earned.to_string(),
            score.passed.to_string(),
            score.failed.to_string(),
            score.skipped.to_string(),
            submission.info.not_submitted.join(";"),
            submission.info.problem.clone().unwrap_or_default(),
        ]);
        csv.row(&row);
    }
    Ok(csv.into_bytes())
}

fn maximum(tasks: &[(String, u32)]) -> u32 {
    tasks.iter().map(|(_, total)| total).sum()
}

/// One student of a roster: the folder their submission is in, and what a learning
/// management system knows them by. Every field but `folder` may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Student {
    /// The submission's folder name, as the reports name it (`alice`).
    pub folder: String,
    /// Their name (Canvas's `Student`, Moodle's full name).
    pub name: String,
    /// Canvas's user id (`ID`).
    pub canvas_id: String,
    /// Canvas's `SIS User ID`.
    pub sis_user_id: String,
    /// Canvas's `SIS Login ID`.
    pub sis_login_id: String,
    /// Canvas's `Section`.
    pub section: String,
    /// Their email address (a Moodle identifier: `useremail`).
    pub email: String,
    /// Their Moodle username (`username`).
    pub username: String,
    /// Their institution's id number (Moodle's `useridnumber`).
    pub id_number: String,
}

/// `--roster FILE`: a CSV file with a header row, one row per student. Its columns are
/// found by name, case and punctuation aside: `folder` (required: the submission folder's
/// name), and any of `Student` (or `name`), `ID`, `SIS User ID`, `SIS Login ID`, `Section`
/// (Canvas's), `Email` (or `Email address`), `Username`, `ID number` (Moodle's). Other
/// columns are ignored: a gradebook exported from Canvas, with a `folder` column added,
/// is a roster (its `Points Possible` row is skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    /// The students, in the file's order.
    pub students: Vec<Student>,
}

impl Roster {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<Roster, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("--roster {}: {error}", path.display()))?;
        Roster::parse(&text).map_err(|error| format!("--roster {}: {error}", path.display()))
    }

    /// Parses a roster's text.
    pub fn parse(text: &str) -> Result<Roster, String> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let header = reader
            .headers()
            .map_err(|error| format!("no header row: {error}"))?
            .clone();
        let column = |names: &[&str]| {
            header.iter().position(|field| {
                let key: String = field
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                names.contains(&key.as_str())
            })
        };
        let Some(folder) = column(&["folder"]) else {
            return Err(format!(
                "no `folder` column (the header has {}): add one holding each student's submission folder name",
                header.iter().collect::<Vec<_>>().join(", ")
            ));
        };
        let columns = [
            column(&["student", "name", "fullname"]),
            column(&["id", "canvasid"]),
            column(&["sisuserid"]),
            column(&["sisloginid"]),
            column(&["section"]),
            column(&["email", "emailaddress"]),
            column(&["username"]),
            column(&["idnumber"]),
        ];
        let mut students: Vec<Student> = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let line = index + 2;
            let record = record.map_err(|error| format!("line {line}: {error}"))?;
            let field = |at: Option<usize>| {
                at.and_then(|at| record.get(at))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            let [
                name,
                canvas_id,
                sis_user_id,
                sis_login_id,
                section,
                email,
                username,
                id_number,
            ] = columns.map(field);
            if name == "Points Possible" || record.iter().all(|field| field.trim().is_empty()) {
                continue;
            }
            let folder = field(Some(folder));
            if !folder.is_empty() && students.iter().any(|student| student.folder == folder) {
                return Err(format!("line {line}: folder `{folder}` is in two rows"));
            }
            students.push(Student {
                folder,
                name,
                canvas_id,
                sis_user_id,
                sis_login_id,
                section,
                email,
                username,
                id_number,
            });
        }
        Ok(Roster { students })
    }
}

/// The `--roster` reporter: the Canvas and Moodle files ([module docs](self)) written
/// when the run is over.
pub struct LmsReport {
    /// The students.
    pub roster: Roster,
    /// Where Canvas's file goes.
    pub canvas: PathBuf,
    /// Where Moodle's file goes.
    pub moodle: PathBuf,
    /// The assignment's column header.
    pub assignment: String,
}

impl LmsReport {
    /// The two files beside `gradebook`: `grades.csv` gives `grades.canvas.csv` and
    /// `grades.moodle.csv`.
    pub fn beside(gradebook: &Path, roster: Roster, assignment: String) -> LmsReport {
        let with = |suffix: &str| gradebook.with_extension(format!("{suffix}.csv"));
        LmsReport {
            roster,
            canvas: with("canvas"),
            moodle: with("moodle"),
            assignment,
        }
    }
}

impl super::Reporter for LmsReport {
    fn finish(&mut self, run: &RunRecord) -> io::Result<()> {
        let files = lms_files(run, &self.roster, &self.assignment)?;
        for warning in &files.warnings {
            eprintln!("harness: --roster: {warning}");
        }
        super::new_file::write(&self.canvas, files.canvas)?;
        super::new_file::write(&self.moodle, files.moodle)
    }
}

/// What [`lms_files`] makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmsFiles {
    /// Canvas's gradebook import.
    pub canvas: Vec<u8>,
    /// Moodle's grade import.
    pub moodle: Vec<u8>,
    /// A student with no submission in the run, a submission in no roster row.
    pub warnings: Vec<String>,
}

/// Canvas's and Moodle's files of `run`, one row per student of `roster`.
pub fn lms_files(run: &RunRecord, roster: &Roster, assignment: &str) -> io::Result<LmsFiles> {
    let max = maximum(&class_tasks(run));
    let mut warnings = Vec::new();
    let mut canvas = CsvText::new();
    let mut moodle = CsvText::new();
    canvas.row([
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        assignment,
    ]);
    canvas.row(["    Points Possible", "", "", "", "", &max.to_string()]);
    moodle.row([
        "Full name",
        "Email address",
        "Username",
        "ID number",
        assignment,
    ]);
    for student in &roster.students {
        let submission = run
            .submissions
            .iter()
            .find(|submission| submission.info.submission == student.folder);
        let earned = match submission {
            Some(submission) => Score::of(&submission.outcomes).earned,
            None => {
                let who = match (student.name.as_str(), student.folder.as_str()) {
                    (name, "") => format!("{name} (no folder in the roster)"),
                    ("", folder) => format!("folder `{folder}`"),
                    (name, folder) => format!("{name} (folder `{folder}`)"),
                };
                warnings.push(format!(
                    "no submission for {who}: 0 in the Canvas and Moodle files"
                ));
                0
            }
        };
        let earned = earned.to_string();
        canvas.row([
            &student.name,
            &student.canvas_id,
            &student.sis_user_id,
            &student.sis_login_id,
            &student.section,
            &earned,
        ]);
        moodle.row([
            &student.name,
            &student.email,
            &student.username,
            &student.id_number,
            &earned,
        ]);
    }
    for submission in &run.submissions {
        let label = &submission.info.submission;
        if !roster
            .students
            .iter()
            .any(|student| &student.folder == label)
        {
            warnings.push(format!(
                "the submission `{label}` is in no roster row: left out of the Canvas and Moodle files"
            ));
        }
    }
    Ok(LmsFiles {
        canvas: canvas.into_bytes(),
        moodle: moodle.into_bytes(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roster_finds_its_columns_by_name_whatever_their_order_and_case() {
        let roster = Roster::parse(
            "Student,ID,SIS User ID,SIS Login ID,Section,Lab 1,Folder,E-mail\n\
                 \x20   Points Possible,,,,,35,,\n\
                 \"Doe, Alice\",101,s1,alice@uni,Mon,30,alice,alice@uni.edu\n\
                 Bob,102,s2,bob@uni,Tue,,,\n",
        )
        .unwrap();
        assert_eq!(
            roster.students.len(),
            2,
            "the Points Possible row is skipped"
        );
        assert_eq!(roster.students[0].name, "Doe, Alice");
        assert_eq!(roster.students[0].folder, "alice");
        assert_eq!(roster.students[0].canvas_id, "101");
        assert_eq!(roster.students[0].email, "alice@uni.edu");
        assert_eq!(roster.students[1].folder, "", "Bob handed in no folder");
    }

    #[test]
    fn a_roster_without_a_folder_column_or_with_a_folder_twice_is_refused() {
        let error = Roster::parse("Student,ID\nAlice,1\n").unwrap_err();
        assert!(error.contains("no `folder` column"), "{error}");
        let error = Roster::parse("folder\nalice\nalice\n").unwrap_err();
        assert_eq!(error, "line 3: folder `alice` is in two rows");
    }
}
