//! `--gradescope FILE`: being built (see issue 5); a placeholder that refuses to write.

use std::io;
use std::path::PathBuf;

use super::{Reporter, RunRecord};

/// The `--gradescope` reporter.
pub struct GradescopeReport {
    path: PathBuf,
}

impl GradescopeReport {
    /// Writes to `path` when the run is over.
    pub fn new(path: PathBuf) -> GradescopeReport {
        GradescopeReport { path }
    }
}

impl Reporter for GradescopeReport {
    fn finish(&mut self, _: &RunRecord) -> io::Result<()> {
        Err(io::Error::other(format!(
            "--gradescope is not built yet ({})",
            self.path.display()
        )))
    }
}
