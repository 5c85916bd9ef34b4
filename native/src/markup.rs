//! Nesting depth of HTML markup, capped before the HTML parser sees it.
//!
//! The HTML tree builder scans its stack of open elements for many tags, so parsing takes
//! time that grows with the square of the nesting depth (100,000 nested `<div>`s took 37 s
//! in lexbor). `cap_depth` removes every start and end tag nested deeper than a limit, in
//! one pass over the bytes; the text between the tags stays. Depth is counted as the tree
//! builder would for well-formed markup: comments and raw text (script, style, …) are
//! skipped, void and optional-end elements are not counted, and `/>` closes an element
//! only inside SVG and MathML. `trim_markup` also empties every `<script>` and `<style>`
//! element in the same pass (JSON-LD scripts are kept: the extractor reads them): on news
//! pages they are half the bytes, which the parser would otherwise read into text nodes
//! the extractor drops. `tests/unit/test_native.py` checks both against a plain Python
//! computation of the same rules.

#[derive(PartialEq)]
enum Kind {
    /// Counted: opens a level, its end tag closes one.
    Nesting,
    /// Void elements, and elements whose end tag may be left out (counting those would
    /// make a page of unclosed <p>s look deep): not counted.
    Flat,
    /// Its content is text up to its end tag (script, style, …).
    RawText,
    /// SVG and MathML, inside which `/>` closes an element.
    Foreign,
}

fn kind(name: &[u8]) -> Kind {
    match name {
        b"area" | b"base" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input" | b"link"
        | b"meta" | b"source" | b"track" | b"wbr" | b"param" | b"keygen" | b"basefont"
        | b"bgsound" | b"frame" | b"command" => Kind::Flat,
        b"p" | b"li" | b"dt" | b"dd" | b"tr" | b"td" | b"th" | b"thead" | b"tbody" | b"tfoot"
        | b"colgroup" | b"caption" | b"option" | b"optgroup" | b"rb" | b"rt" | b"rtc" | b"rp"
        | b"html" | b"head" | b"body" => Kind::Flat,
        b"script" | b"style" | b"textarea" | b"title" | b"xmp" | b"iframe" | b"noembed"
        | b"noframes" | b"noscript" | b"plaintext" => Kind::RawText,
        b"svg" | b"math" => Kind::Foreign,
        _ => Kind::Nesting,
    }
}

// Longer names are none of the above: compared only up to this many bytes.
const NAME_MAX: usize = 16;

fn is_name_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic()
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b':' || byte == b'-'
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= haystack.len() {
        return None;
    }
    memchr::memmem::find(&haystack[from..], needle).map(|at| at + from)
}

/// The next `</name` (any case) at or after `from` that is followed by a byte that
/// cannot continue the name.
fn find_end_tag(html: &[u8], name: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(lt) = find(html, b"</", at) {
        let start = lt + 2;
        let end = start + name.len();
        if end <= html.len()
            && html[start..end].eq_ignore_ascii_case(name)
            && (end == html.len() || !is_name_byte(html[end]))
        {
            return Some(lt);
        }
        at = lt + 2;
    }
    None
}

/// A start tag that declares JSON-LD (`type="application/ld+json"`, in any case).
fn is_json_ld(tag: &[u8]) -> bool {
    tag.windows(7).any(|w| w.eq_ignore_ascii_case(b"ld+json"))
}

/// (start, end) byte offsets of each tag nested deeper than `limit`, and with
/// `empty_code` of the content of each script (but JSON-LD) and style element; in order,
/// none overlapping.
pub fn cuts(html: &[u8], limit: usize, empty_code: bool) -> Vec<(usize, usize)> {
    let mut cuts = Vec::new();
    let (mut depth, mut foreign, mut position) = (0usize, 0usize, 0usize);
    let mut lowered = [0u8; NAME_MAX];
    while let Some(offset) = memchr::memchr(b'<', &html[position.min(html.len())..]) {
        let lt = position + offset;
        if html[lt..].starts_with(b"<!--") {
            match find(html, b"-->", lt + 4) {
                Some(end) => {
                    position = end + 3;
                    continue;
                }
                None => break,
            }
        }
        let closing = html.get(lt + 1) == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        if name_start >= html.len() || !is_name_start(html[name_start]) {
            position = lt + 1;
            continue;
        }
        let mut name_end = name_start;
        while name_end < html.len() && is_name_byte(html[name_end]) {
            name_end += 1;
        }
        // The tag ends at the next '>', or before the next '<' if that comes first (so an
        // unterminated tag costs no more than its own bytes).
        let mut end =
            memchr::memchr2(b'>', b'<', &html[name_end..]).map_or(html.len(), |at| name_end + at);
        if end < html.len() && html[end] == b'>' {
            end += 1;
        }
        position = end;
        let length = (name_end - name_start).min(NAME_MAX);
        for (slot, byte) in lowered
            .iter_mut()
            .zip(&html[name_start..name_start + length])
        {
            *slot = byte.to_ascii_lowercase();
        }
        let name = if name_end - name_start > NAME_MAX {
            &b""[..]
        } else {
            &lowered[..length]
        };
        let kind = kind(name);
        if kind == Kind::Flat {
            continue;
        }
        let is_foreign = kind == Kind::Foreign;
        if closing {
            if depth > limit {
                cuts.push((lt, end));
            }
            depth = depth.saturating_sub(1);
            if is_foreign {
                foreign = foreign.saturating_sub(1);
            }
            continue;
        }
        if foreign > 0 && html[..end].ends_with(b"/>") {
            continue;
        }
        depth += 1;
        if depth > limit {
            cuts.push((lt, end));
        }
        if is_foreign {
            foreign += 1;
        } else if kind == Kind::RawText {
            match find_end_tag(html, name, end) {
                Some(close) => {
                    let code =
                        name == b"style" || (name == b"script" && !is_json_ld(&html[lt..end]));
                    if empty_code && code && close > end {
                        cuts.push((end, close));
                    }
                    position = close;
                }
                None => break,
            }
        }
    }
    cuts
}

/// `html` without the tags nested deeper than `limit` and, with `empty_code`, without
/// the content of script and style elements; `None` when there is nothing to cut. Tags
/// are ASCII from '<' to '>' and raw text ends at an ASCII end tag, so the cuts keep
/// UTF-8 intact.
pub fn trim(html: &[u8], limit: usize, empty_code: bool) -> Option<Vec<u8>> {
    let cuts = cuts(html, limit, empty_code);
    if cuts.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(html.len());
    let mut last = 0;
    for (start, end) in cuts {
        out.extend_from_slice(&html[last..start]);
        last = end;
    }
    out.extend_from_slice(&html[last..]);
    Some(out)
}
