//! The scan for one-character abbreviations (`pipelines/abbreviations.py` says what
//! they are and holds the tables): pairs of countries (中美), a character after a verb
//! (访美) or before a noun (美防长), and leaders' meetings (习普会). Python loops over
//! every candidate character cost a fifth of an article's time; here it is one pass.
//!
//! Offsets are string indices (characters), as everywhere in the pipeline; `edges` has
//! a byte per offset, non-zero where a token starts or ends.

use pyo3::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::Segmentation;

const BLANK: char = '\u{0}';

#[pyclass(frozen)]
pub struct Shapes {
    country: FxHashMap<char, u32>,
    compound: FxHashMap<char, u32>,
    verb_only: FxHashMap<char, u32>,
    leader: FxHashMap<char, u32>,
    beside: FxHashMap<char, (char, u32)>,
    verbs: FxHashSet<char>,
    nouns: FxHashMap<char, Vec<Vec<char>>>,
    traps: FxHashMap<char, Vec<Vec<char>>>,
}

#[pymethods]
impl Shapes {
    /// Tables from `Abbreviations`: characters to entity numbers by use, `beside` as
    /// character -> (partner, entity), the verbs, the nouns and the trap words.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        country: FxHashMap<char, u32>,
        compound: FxHashMap<char, u32>,
        verb_only: FxHashMap<char, u32>,
        leader: FxHashMap<char, u32>,
        beside: FxHashMap<char, (char, u32)>,
        verbs: &str,
        nouns: Vec<String>,
        traps: Vec<String>,
    ) -> Self {
        Shapes {
            country,
            compound,
            verb_only,
            leader,
            beside,
            verbs: verbs.chars().collect(),
            nouns: by_first_char(&nouns),
            traps: by_first_char(&traps),
        }
    }

    /// (offset, entity) of each abbreviation in `text`, in order, outside the `names`
    /// spans (start, end) and not where the segmentation of `text` has a token tagged
    /// as a personal name.
    #[pyo3(signature = (text, edges, names, segmentation=None))]
    fn find(
        &self,
        text: &str,
        edges: &[u8],
        names: Vec<(usize, usize)>,
        segmentation: Option<PyRef<'_, Segmentation>>,
    ) -> Vec<(usize, u32)> {
        let persons: FxHashSet<usize> = segmentation
            .map(|seg| seg.person_starts().collect())
            .unwrap_or_default();
        let original: Vec<char> = text.chars().collect();
        let mut chars = original.clone();
        for (start, end) in names {
            for c in chars.iter_mut().take(end.min(original.len())).skip(start) {
                *c = BLANK;
            }
        }
        let edge = |i: usize| edges.get(i).is_some_and(|&b| b != 0);
        let traps = self.trap_spans(&original);
        let mut found: Vec<(usize, u32)> = Vec::new();
        let size = chars.len();
        let is_run = |c: char| self.country.contains_key(&c) || self.beside.contains_key(&c);
        let mut i = 0;
        while i < size {
            let c = chars[i];
            if is_run(c) {
                let start = i;
                let mut end = i + 1;
                while end < size && is_run(chars[end]) {
                    end += 1;
                }
                i = end;
                let single = end - start == 1;
                let after_verb = start > 0 && self.verbs.contains(&chars[start - 1]);
                let before_noun = end < size && self.nouns.contains_key(&chars[end]);
                if single && !after_verb && !before_noun {
                    continue;
                }
                if !persons.contains(&start) {
                    self.run(&chars, &edge, start, end, &traps, &mut found);
                }
                continue;
            }
            if start_after_verb(self, &chars, i) {
                self.single(&chars, &edge, i, &traps, &mut found);
            }
            if i >= 2
                && (c == '会' || c == '配')
                && self.leader.contains_key(&chars[i - 2])
                && self.leader.contains_key(&chars[i - 1])
            {
                self.meeting(&chars, &edge, i - 2, &mut found);
            }
            i += 1;
        }
        found.sort_by_key(|&(at, _)| at);
        found
    }
}

/// Words by their first character, longest first.
fn by_first_char(words: &[String]) -> FxHashMap<char, Vec<Vec<char>>> {
    let mut by_first: FxHashMap<char, Vec<Vec<char>>> = FxHashMap::default();
    for word in words {
        let chars: Vec<char> = word.chars().collect();
        if let Some(&first) = chars.first() {
            by_first.entry(first).or_default().push(chars);
        }
    }
    for list in by_first.values_mut() {
        list.sort_by_key(|word| std::cmp::Reverse(word.len()));
    }
    by_first
}

/// A verb-only character (华, 京) right after a verb.
fn start_after_verb(shapes: &Shapes, chars: &[char], i: usize) -> bool {
    i > 0 && shapes.verb_only.contains_key(&chars[i]) && shapes.verbs.contains(&chars[i - 1])
}

impl Shapes {
    fn trap_spans(&self, chars: &[char]) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut at = 0;
        while at < chars.len() {
            let hit = self
                .traps
                .get(&chars[at])
                .and_then(|traps| traps.iter().find(|t| chars[at..].starts_with(t)))
                .map(|t| t.len());
            match hit {
                Some(len) => {
                    spans.push((at, at + len));
                    at += len;
                }
                None => at += 1,
            }
        }
        spans
    }

    fn run(
        &self,
        chars: &[char],
        edge: &impl Fn(usize) -> bool,
        start: usize,
        end: usize,
        traps: &[(usize, usize)],
        found: &mut Vec<(usize, u32)>,
    ) {
        let mut end = end;
        if !edge(start) {
            // inside a word (平台, 其中, 对美): its first character may still follow a
            // verb, or its last begin a word of its own
            if end - start == 1 || !edge(end - 1) {
                self.single(chars, edge, start, traps, found);
            } else {
                self.single(chars, edge, end - 1, traps, found);
            }
            return;
        }
        if !edge(end) {
            // a word that begins inside the run and goes past it takes its characters
            if let Some(cut) = (start..end).rev().find(|&k| edge(k)) {
                if cut > start {
                    end = cut;
                }
            }
        }
        if end - start == 1 {
            self.single(chars, edge, start, traps, found);
            return;
        }
        if trapped(traps, start, end) {
            return;
        }
        let run = &chars[start..end];
        for (k, c) in run.iter().enumerate() {
            match self.beside.get(c) {
                Some(&(partner, entity)) if run.contains(&partner) => {
                    found.push((start + k, entity))
                }
                _ => {
                    if let Some(&entity) = self.country.get(c) {
                        found.push((start + k, entity));
                    }
                }
            }
        }
    }

    fn single(
        &self,
        chars: &[char],
        edge: &impl Fn(usize) -> bool,
        at: usize,
        traps: &[(usize, usize)],
        found: &mut Vec<(usize, u32)>,
    ) {
        let c = chars[at];
        let Some(&entity) = self.compound.get(&c).or_else(|| self.verb_only.get(&c)) else {
            return;
        };
        if at > 0 && self.verbs.contains(&chars[at - 1]) && edge(at - 1) && edge(at + 1) {
            if !trapped(traps, at - 1, at + 1) {
                found.push((at, entity));
            }
            return;
        }
        if !self.compound.contains_key(&c) || !edge(at) {
            return;
        }
        let Some(nouns) = chars.get(at + 1).and_then(|n| self.nouns.get(n)) else {
            return;
        };
        for noun in nouns {
            if !chars[at + 1..].starts_with(noun) {
                continue;
            }
            let after = at + 1 + noun.len();
            if (at + 2..after).any(edge) {
                continue; // the noun is split: it is another word's beginning
            }
            if edge(after) || !edge(at + 1) {
                if !trapped(traps, at, after) {
                    found.push((at, entity));
                }
                return;
            }
        }
    }

    fn meeting(
        &self,
        chars: &[char],
        edge: &impl Fn(usize) -> bool,
        at: usize,
        found: &mut Vec<(usize, u32)>,
    ) {
        let (first, second) = (self.leader[&chars[at]], self.leader[&chars[at + 1]]);
        if first == second || !edge(at) {
            return;
        }
        if chars[at + 2] == '配' && chars.get(at + 3) == Some(&'合') {
            return; // 配合: to cooperate, not a ticket
        }
        found.push((at, first));
        found.push((at + 1, second));
    }
}

fn trapped(traps: &[(usize, usize)], start: usize, end: usize) -> bool {
    traps
        .iter()
        .any(|&(t_start, t_end)| t_start < end && t_end > start)
}
