//! Native core of the mediamon pipeline.
//!
//! One jieba-rs pass over an article's search form, kept in Rust: the pipeline asks the
//! result for exactly what it needs (distinct words with their counts, the token edges,
//! the tokens tagged as names) instead of turning every token into Python objects first.
//! `pipelines/segment.py` wraps it; `tests/unit/test_native.py` checks every answer
//! against a plain computation over `Segmenter.tag`.
//!
//! Beside it, `trim_markup` (markup.rs): the HTML nesting cap, and the emptying of
//! scripts and styles, that `pipelines/extract.py` applies before parsing, a scan over
//! every tag of every page (`cap_depth`: the cap alone); and `Shapes`
//! (shapes.rs): the scan for one-character abbreviations of `pipelines/abbreviations.py`.

mod markup;
mod shapes;

use jieba_rs::Jieba;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};

/// Python strings for words already seen, shared by a segmenter's segmentations: a
/// word that comes back is handed out as the same object, with its hash computed once
/// (the pipeline looks every word up in dictionaries). Cleared when full.
struct Words {
    strings: FxHashMap<Box<str>, Py<PyString>>,
    capacity: usize,
}

impl Words {
    fn get<'py>(&mut self, py: Python<'py>, word: &str) -> Bound<'py, PyString> {
        if let Some(string) = self.strings.get(word) {
            return string.bind(py).clone();
        }
        let string = PyString::new(py, word);
        if self.capacity > 0 {
            if self.strings.len() >= self.capacity {
                self.strings.clear();
            }
            self.strings.insert(word.into(), string.clone().unbind());
        }
        string
    }
}

/// Tag classes kept per token: punctuation or whitespace (jieba's "x", dropped from the
/// content words), any other tag (""), nouns and locality words (n, f, ng: the last
/// character of a name the segmenter cut may be one, 陈致|中, 金立|群), then the name
/// tags, each its own.
const TAG_NAMES: [&str; 10] = ["x", "", "n", "f", "ng", "nr", "nrt", "nrfg", "ns", "nt"];
const X: u8 = 0;
const OTHER: u8 = 1;
const FIRST_NAME_TAG: u8 = 5;

fn tag_code(tag: &str) -> u8 {
    match tag {
        "x" => X,
        "n" => 2,
        "f" => 3,
        "ng" => 4,
        "nr" => 5,
        "nrt" => 6,
        "nrfg" => 7,
        "ns" => 8,
        "nt" => 9,
        _ => OTHER,
    }
}

/// One token: byte range in the text, character offsets, tag class.
struct Piece {
    byte_start: u32,
    byte_end: u32,
    start: u32,
    end: u32,
    tag: u8,
}

/// A segmented text. Offsets are in characters (Python string indices).
#[pyclass(frozen, module = "mediamon_native")]
struct Segmentation {
    words: Arc<Mutex<Words>>,
    text: String,
    pieces: Vec<Piece>,
    chars: usize,
    word_count: usize,
}

impl Segmentation {
    /// Where the tokens tagged as personal names (nr, nrt, nrfg) start.
    fn person_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.pieces
            .iter()
            .filter(|p| matches!(TAG_NAMES[p.tag as usize], "nr" | "nrt" | "nrfg"))
            .map(|p| p.start as usize)
    }

    fn word(&self, piece: &Piece) -> &str {
        &self.text[piece.byte_start as usize..piece.byte_end as usize]
    }

    fn content(&self) -> impl Iterator<Item = &Piece> {
        self.pieces.iter().filter(|p| p.tag != X)
    }
}

/// Runs native code, turning a panic inside it into RuntimeError: an ordinary exception,
/// which the pipeline records as a rejection of that one article, where PyO3's own
/// PanicException derives from BaseException and would get past the pipeline's guard.
fn guarded<T>(f: impl FnOnce() -> T) -> PyResult<T> {
    guarded_as("jieba-rs", f)
}

fn guarded_as<T>(what: &str, f: impl FnOnce() -> T) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        PyRuntimeError::new_err(format!("{what} failed: {detail}"))
    })
}

fn f64_bytes<'py>(py: Python<'py>, values: &[f64]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, values.len() * 8, |buf| {
        for (chunk, value) in buf.chunks_exact_mut(8).zip(values) {
            chunk.copy_from_slice(&value.to_ne_bytes());
        }
        Ok(())
    })
}

#[pymethods]
impl Segmentation {
    /// A segmentation given as (word, tag) pairs, for tests of what reads it.
    #[staticmethod]
    fn from_pairs(pairs: Vec<(String, String)>) -> PyResult<Segmentation> {
        let mut text = String::new();
        let mut pieces = Vec::with_capacity(pairs.len());
        let mut chars = 0usize;
        let mut word_count = 0;
        for (word, tag) in &pairs {
            let start = chars;
            chars += word.chars().count();
            let byte_start = text.len();
            text.push_str(word);
            let code = tag_code(tag);
            word_count += usize::from(code != X);
            pieces.push(Piece {
                byte_start: byte_start as u32,
                byte_end: text.len() as u32,
                start: start as u32,
                end: chars as u32,
                tag: code,
            });
        }
        let words = Words {
            strings: FxHashMap::default(),
            capacity: 0,
        };
        Ok(Segmentation {
            words: Arc::new(Mutex::new(words)),
            text,
            pieces,
            chars,
            word_count,
        })
    }

    fn __len__(&self) -> usize {
        self.pieces.len()
    }

    /// How many content words (tokens not tagged "x").
    #[getter]
    fn word_count(&self) -> usize {
        self.word_count
    }

    /// The content words joined by single spaces.
    fn text_tokens(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.word_count);
        for piece in self.content() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(self.word(piece));
        }
        out
    }

    /// Distinct content words in order of first appearance, their counts (float64,
    /// native byte order) and their counts among tokens ending after `head_end` (the
    /// story without its headline and dateline).
    fn counts<'py>(
        &self,
        py: Python<'py>,
        head_end: usize,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        index.reserve(self.word_count / 2 + 1);
        let mut keys: Vec<&str> = Vec::with_capacity(self.word_count / 2 + 1);
        let mut tf: Vec<f64> = Vec::with_capacity(keys.capacity());
        let mut story: Vec<f64> = Vec::with_capacity(keys.capacity());
        for piece in self.content() {
            let word = self.word(piece);
            let row = *index.entry(word).or_insert_with(|| {
                keys.push(word);
                tf.push(0.0);
                story.push(0.0);
                keys.len() - 1
            });
            tf[row] += 1.0;
            if piece.end as usize > head_end {
                story[row] += 1.0;
            }
        }
        let mut words = self.words.lock().expect("word table poisoned");
        let list = PyList::new(py, keys.iter().map(|k| words.get(py, k)))?;
        Ok((list, f64_bytes(py, &tf)?, f64_bytes(py, &story)?))
    }

    /// One byte per character offset 0..=len(text): 1 where a token starts or ends.
    /// Tokens tile the text, so starts and ends are the same set.
    fn edges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        PyBytes::new_with(py, self.chars + 1, |buf| {
            buf[0] = 1;
            for piece in &self.pieces {
                buf[piece.end as usize] = 1;
            }
            Ok(())
        })
    }

    /// Tokens tagged as names (nr, nrt, nrfg, ns, nt): (index, word, tag, start, end).
    #[allow(clippy::type_complexity)]
    fn names<'py>(
        &self,
        py: Python<'py>,
    ) -> Vec<(usize, Bound<'py, PyString>, &'static str, u32, u32)> {
        let mut words = self.words.lock().expect("word table poisoned");
        self.pieces
            .iter()
            .enumerate()
            .filter(|(_, p)| p.tag >= FIRST_NAME_TAG)
            .map(|(i, p)| {
                let word = words.get(py, self.word(p));
                (i, word, TAG_NAMES[p.tag as usize], p.start, p.end)
            })
            .collect()
    }

    /// Token `index` as (word, tag, start, end), or None past the end. The tag is the
    /// name tag, "x", "n", "f", "ng", or "" for any other tag.
    fn piece(&self, index: usize) -> Option<(&str, &'static str, u32, u32)> {
        self.pieces
            .get(index)
            .map(|p| (self.word(p), TAG_NAMES[p.tag as usize], p.start, p.end))
    }

    /// Content words as (word, start, end).
    fn tokens(&self) -> Vec<(&str, u32, u32)> {
        self.content()
            .map(|p| (self.word(p), p.start, p.end))
            .collect()
    }
}

/// A jieba-rs instance with the default dictionary and a user dictionary.
#[pyclass(frozen, module = "mediamon_native")]
struct Segmenter {
    jieba: Jieba,
    words: Arc<Mutex<Words>>,
}

#[pymethods]
impl Segmenter {
    #[new]
    #[pyo3(signature = (user_words, user_freq, user_tag = "nz", word_table = 100_000))]
    fn new(user_words: Vec<String>, user_freq: usize, user_tag: &str, word_table: usize) -> Self {
        let mut jieba = Jieba::new();
        for word in &user_words {
            jieba.add_word(word, Some(user_freq), Some(user_tag));
        }
        let words = Words {
            strings: FxHashMap::default(),
            capacity: word_table,
        };
        Segmenter {
            jieba,
            words: Arc::new(Mutex::new(words)),
        }
    }

    /// Segment and tag `text` (HMM on for unknown words).
    fn segment(&self, text: &str) -> PyResult<Segmentation> {
        if text.len() > u32::MAX as usize {
            return Err(PyValueError::new_err("text too long to segment"));
        }
        let tagged = guarded(|| self.jieba.tag(text, true))?;
        let mut pieces = Vec::with_capacity(tagged.len());
        let mut word_count = 0;
        for tag in &tagged {
            let code = tag_code(tag.tag);
            word_count += usize::from(code != X);
            pieces.push(Piece {
                byte_start: tag.byte_start as u32,
                byte_end: tag.byte_end as u32,
                start: tag.start as u32,
                end: tag.end as u32,
                tag: code,
            });
        }
        let chars = tagged.last().map_or(0, |t| t.end);
        Ok(Segmentation {
            words: Arc::clone(&self.words),
            text: text.to_owned(),
            pieces,
            chars,
            word_count,
        })
    }

    /// Is `word` in the dictionary (jieba's or the user words)?
    fn has_word(&self, word: &str) -> bool {
        self.jieba.has_word(word)
    }

    /// Every token with its full part-of-speech tag.
    fn tag(&self, text: &str) -> PyResult<Vec<(String, String)>> {
        guarded(|| {
            self.jieba
                .tag(text, true)
                .into_iter()
                .map(|t| (t.word.to_owned(), t.tag.to_owned()))
                .collect()
        })
    }

    /// Plain jieba cut: every token, punctuation included.
    fn cut<'a>(&self, text: &'a str) -> PyResult<Vec<&'a str>> {
        guarded(|| {
            self.jieba
                .cut(text, true)
                .into_iter()
                .map(|t| t.word)
                .collect()
        })
    }
}

/// UTF-8 `html` without the start and end tags nested deeper than `limit` (their text
/// stays): the same bytes object when nothing is nested that deep. Linear in the length.
fn trimmed<'py>(
    html: Bound<'py, PyBytes>,
    limit: usize,
    empty_code: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = html.py();
    let trimmed = guarded_as("the markup scan", || {
        markup::trim(html.as_bytes(), limit, empty_code)
    })?;
    Ok(match trimmed {
        Some(out) => PyBytes::new(py, &out),
        None => html,
    })
}

#[pyfunction]
fn cap_depth<'py>(html: Bound<'py, PyBytes>, limit: usize) -> PyResult<Bound<'py, PyBytes>> {
    trimmed(html, limit, false)
}

#[pyfunction]
fn trim_markup<'py>(html: Bound<'py, PyBytes>, limit: usize) -> PyResult<Bound<'py, PyBytes>> {
    trimmed(html, limit, true)
}

#[pymodule]
mod mediamon_native {
    #[pymodule_export]
    use super::shapes::Shapes;
    #[pymodule_export]
    use super::{cap_depth, trim_markup, Segmentation, Segmenter};
}
