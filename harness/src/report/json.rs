//! `--json FILE`: being built (see issue 5); a placeholder that refuses to write.

use std::io;
use std::path::PathBuf;

use super::{Reporter, RunRecord};

/// The `--json` reporter.
pub struct JsonReport {
    path: PathBuf,
}

impl JsonReport {
    /// Writes to `path` when the run is over.
    pub fn new(path: PathBuf) -> JsonReport {
        JsonReport { path }
    }
}

impl Reporter for JsonReport {
    fn finish(&mut self, _: &RunRecord) -> io::Result<()> {
        Err(io::Error::other(format!(
            "--json is not built yet ({})",
            self.path.display()
        )))
    }
}
