//! A SQLite database file per test, in a folder of its own, removed when the test ends.

use std::path::PathBuf;

use rand::Rng;

#[derive(Debug)]
pub struct TestSqliteFile {
    dir: PathBuf,
    path: String,
}

impl TestSqliteFile {
    /// A path for a database that does not exist yet; its folder does.
    pub fn create() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "calendly-gateway-test-{:016x}",
            rand::rng().random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        let path = dir.join("gateway.db").to_string_lossy().into_owned();
        Self { dir, path }
    }

    /// The database file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// As `database.url` names it.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path)
    }
}

impl Drop for TestSqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
