//! `--junit FILE`: being built (see issue 5); a placeholder that refuses to write.

use std::io;
use std::path::PathBuf;

use super::{Reporter, RunRecord};

/// The `--junit` reporter.
pub struct JunitReport {
    path: PathBuf,
}

impl JunitReport {
    /// Writes to `path` when the run is over.
    pub fn new(path: PathBuf) -> JunitReport {
        JunitReport { path }
    }
}

impl Reporter for JunitReport {
    fn finish(&mut self, _: &RunRecord) -> io::Result<()> {
        Err(io::Error::other(format!(
            "--junit is not built yet ({})",
            self.path.display()
        )))
    }
}
