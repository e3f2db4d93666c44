//! Why this exists: an export is written whole or not at all. A file goes
//! to a temporary name beside the target and is renamed over it only once
//! complete, so a failed or interrupted export leaves the old file as it
//! was. CSV cells are neutralised as the results file neutralises them
//! (the import reads them back to the same value); a workbook's cells are
//! string cells, which a spreadsheet never runs, and are written as is.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::output::neutralise;

/// A header and its rows, every cell already text.
#[derive(Debug, Default)]
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// Writes `table` as CSV to `out`.
pub fn write_csv(table: &Table, out: impl Write) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&table.header)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(|c| neutralise(c).into_owned()))?;
    }
    writer.flush()
}

fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// Writes `table` to `path` (a workbook when it ends in `.xlsx`), replacing
/// an existing file only once the new one is complete.
pub fn write_file(table: &Table, path: &Path, sheet: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let temporary: PathBuf = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let written = if is_xlsx(path) {
        write_xlsx(table, &temporary, sheet)
    } else {
        std::fs::File::create(&temporary)
            .and_then(|file| write_csv(table, io::BufWriter::new(file)))
    };
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

fn write_xlsx(table: &Table, path: &Path, sheet: &str) -> io::Result<()> {
    let failed = |e: rust_xlsxwriter::XlsxError| io::Error::other(e.to_string());
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet).map_err(failed)?;
    for (col, name) in table.header.iter().enumerate() {
        worksheet
            .write_string(0, col as u16, *name)
            .map_err(failed)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        for (col, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            // A string cell is never a formula: the apostrophe is CSV's alone.
            worksheet
                .write_string(r as u32 + 1, col as u16, cell)
                .map_err(failed)?;
        }
    }
    workbook.save(path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            header: vec!["email", "phone"],
            rows: vec![vec!["ana@example.com".into(), "+13175550123".into()]],
        }
    }

    #[test]
    fn csv_cells_are_neutralised() {
        let mut out = Vec::new();
        write_csv(&table(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "email,phone\nana@example.com,'+13175550123\n"
        );
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("org.csv");
        assert!(write_file(&table(), &path, "users").is_err());
        let path = dir.path().join("org.csv");
        std::fs::write(&path, "old").unwrap();
        write_file(&table(), &path, "users").unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("email,phone"));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
