//! Between a script's `line:column` (1-based, columns in characters, as Rhai reports them)
//! and byte offsets into its text.

/// Byte offset of 1-based (`line`, `col`), `col` counted in characters.
pub(super) fn char_offset_to_byte(text: &str, line: u32, col: u32) -> Option<usize> {
    let mut offset = 0usize;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == usize::try_from(line).ok()? {
            let skip = usize::try_from(col.saturating_sub(1)).ok()?;
            let within = l.char_indices().nth(skip).map(|(b, _)| b).unwrap_or(l.len());
            return Some(offset + within);
        }
        offset += l.len() + 1;
    }
    None
}

pub(super) fn byte_to_line_col(text: &str, byte: usize) -> (u32, u32) {
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = text[line_start..byte].chars().count() + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(col).unwrap_or(u32::MAX))
}
