//! Why this exists: admins start from Excel. A worksheet of an `.xlsx` (or
//! `.xlsm`) becomes the same CSV the reader validates, cell by cell as a
//! person sees it (dates as `YYYY-MM-DD`, whole numbers without `.0`), with
//! one line per worksheet row, so `line` in the results is the row number.
//! The whole sheet is held in memory (calamine reads it at once).

use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx, XlsxError};

use super::InputError;

/// True for the file names read as workbooks.
pub fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm"))
}

/// The worksheet (`sheet`, else the first) as comma-separated UTF-8.
pub fn to_csv(path: &Path, sheet: Option<&str>) -> Result<Vec<u8>, InputError> {
    let unusable = |e: XlsxError| InputError::Workbook {
        path: path.to_path_buf(),
        message: describe(e),
    };
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(unusable)?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(wanted)))
            .cloned()
            .ok_or_else(|| InputError::NoSheet {
                path: path.to_path_buf(),
                sheet: wanted.to_string(),
                available: names.clone(),
            })?,
        None => names.first().cloned().ok_or_else(|| InputError::Workbook {
            path: path.to_path_buf(),
            message: "the workbook has no worksheet".into(),
        })?,
    };
    let range = workbook.worksheet_range(&name).map_err(unusable)?;
    let mut out = Vec::new();
    // Rows above the used range are empty: blank lines keep the numbering.
    let first_row = range.start().map_or(0, |(row, _)| row);
    out.extend(std::iter::repeat_n(b'\n', first_row as usize));
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    for row in range.rows() {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        writer
            .write_record(&cells)
            .map_err(|e| InputError::Workbook {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
    }
    writer.into_inner().map_err(|e| InputError::Workbook {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn describe(error: XlsxError) -> String {
    match error {
        XlsxError::Password => {
            "the workbook is password-protected; save a copy without a password".to_string()
        }
        XlsxError::Io(e) => e.to_string(),
        other => format!("not a readable .xlsx workbook ({other})"),
    }
}

/// A cell as the text a person sees.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(true) => "TRUE".into(),
        Data::Bool(false) => "FALSE".into(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, h, min, s, _) = dt.to_ymd_hms_milli();
            if (h, min, s) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => number(dt.as_f64()),
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// Whole numbers without `.0` (phone numbers stored as numbers keep every
/// digit); others as the shortest text that reads back the same.
fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_protected_workbook_says_so() {
        assert_eq!(
            describe(XlsxError::Password),
            "the workbook is password-protected; save a copy without a password"
        );
    }

    #[test]
    fn cells_read_as_a_person_sees_them() {
        assert_eq!(cell_text(&Data::Float(13175550123.0)), "13175550123");
        assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
        assert_eq!(cell_text(&Data::Int(42)), "42");
        let date =
            calamine::ExcelDateTime::new(46357.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(date)), "2026-12-01");
        assert_eq!(
            cell_text(&Data::DateTimeIso("2026-12-01T00:00:00".into())),
            "2026-12-01"
        );
    }
}
