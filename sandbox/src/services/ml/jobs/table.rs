//! The jobs of one workspace: stored compactly (generated workspaces hold 100,000 of them; parts all jobs of a
//! generation share sit behind one `Arc`), found by id, and listed newest first by `(createdAt, arrival)` with a
//! keyset cursor, so a `$skip` token stays valid while new jobs arrive.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::super::schema::Obj;

pub(crate) struct Job {
    pub id: String,
    pub seq: u64,
    pub created: i64,
    pub created_by: String,
    pub job_type: String,
    pub display_name: Option<String>,
    pub description: Value,
    pub experiment_name: String,
    /// Shared between generated jobs, replaced whole by updates.
    pub tags: Arc<Obj>,
    pub properties: Arc<Obj>,
    pub compute_id: Value,
    pub inputs: Obj,
    pub archived: bool,
    /// The other members of the job's properties as submitted or seeded (`jobs`, `settings`, `outputs`,
    /// `identity`, `componentId`, `sourceJobId`, `notificationSetting`, `services`); shared between generated jobs.
    pub rest: Arc<Obj>,
    /// The status walk and where the job is on it.
    pub steps: Arc<[String]>,
    pub pos: usize,
}

impl Job {
    pub fn status(&self) -> &str {
        self.steps.get(self.pos).map_or("Unknown", String::as_str)
    }

    /// One step further, unless on the last step.
    pub fn advance(&mut self) {
        if self.pos + 1 < self.steps.len() {
            self.pos += 1;
        }
    }

    /// Puts an existing job on a new walk: at its current status when the walk has it (a running job goes on from
    /// there), else at the walk's end (a finished job simply has the scripted outcome; it does not run again).
    pub fn set_steps(&mut self, steps: Vec<String>) {
        let current = self.status().to_string();
        self.pos = steps.iter().position(|s| *s == current).unwrap_or(steps.len().saturating_sub(1));
        self.steps = steps.into();
    }

    fn key(&self) -> (i64, u64) {
        (self.created, self.seq)
    }
}

#[derive(Default)]
pub(crate) struct JobTable {
    jobs: Vec<Job>,
    by_id: HashMap<String, usize>,
    /// Indexes into `jobs`, newest first; rebuilt lazily after inserts (bulk generation inserts 100,000 at once).
    order: Vec<usize>,
    sorted: bool,
}

/// A list page: job indexes and, when more jobs match, the cursor after the last one.
pub(crate) struct Page {
    pub jobs: Vec<usize>,
    pub next: Option<(i64, u64)>,
}

impl JobTable {
    pub fn get(&self, id: &str) -> Option<&Job> {
        self.by_id.get(id).map(|&i| &self.jobs[i])
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Job> {
        self.by_id.get(id).map(|&i| &mut self.jobs[i])
    }

    pub fn at(&self, index: usize) -> &Job {
        &self.jobs[index]
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Job> {
        self.jobs.iter_mut()
    }

    /// Room for `more` jobs (bulk generation).
    pub fn reserve(&mut self, more: usize) {
        self.jobs.reserve(more);
        self.order.reserve(more);
        self.by_id.reserve(more);
    }

    /// Adds a job; a job with the same id is replaced (seeding the same id twice keeps the later one).
    pub fn insert(&mut self, job: Job) {
        match self.by_id.get(&job.id) {
            Some(&at) => self.jobs[at] = job,
            None => {
                self.by_id.insert(job.id.clone(), self.jobs.len());
                self.order.push(self.jobs.len());
                self.jobs.push(job);
            }
        }
        self.sorted = false;
    }

    fn sort(&mut self) {
        if !self.sorted {
            let jobs = &self.jobs;
            self.order.sort_unstable_by(|&a, &b| jobs[b].key().cmp(&jobs[a].key()));
            self.sorted = true;
        }
    }

    /// Up to `size` jobs passing `keep`, newest first, starting after `after`.
    pub fn page(&mut self, keep: impl Fn(&Job) -> bool, after: Option<(i64, u64)>, size: usize) -> Page {
        self.sort();
        let start = match after {
            Some(cursor) => self.order.partition_point(|&i| self.jobs[i].key() >= cursor),
            None => 0,
        };
        let mut jobs = Vec::with_capacity(size.min(1024));
        let mut next = None;
        for &i in &self.order[start..] {
            if !keep(&self.jobs[i]) {
                continue;
            }
            if jobs.len() == size {
                next = jobs.last().map(|&last: &usize| self.jobs[last].key());
                break;
            }
            jobs.push(i);
        }
        Page { jobs, next }
    }
}

/// `$skip` tokens of the job list: opaque to clients, here the cursor in hex.
pub(crate) fn encode_cursor(cursor: (i64, u64)) -> String {
    format!("j1.{:x}.{:x}", cursor.0, cursor.1)
}

pub(crate) fn decode_cursor(token: &str) -> Option<(i64, u64)> {
    let mut parts = token.strip_prefix("j1.")?.split('.');
    let created = i64::from_str_radix(parts.next()?, 16).ok()?;
    let seq = u64::from_str_radix(parts.next()?, 16).ok()?;
    parts.next().is_none().then_some((created, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn job(id: &str, created: i64, seq: u64) -> Job {
        Job {
            id: id.into(),
            seq,
            created,
            created_by: String::new(),
            job_type: "Pipeline".into(),
            display_name: None,
            description: Value::Null,
            experiment_name: "Default".into(),
            tags: Arc::new(Obj::new()),
            properties: Arc::new(Obj::new()),
            compute_id: Value::Null,
            inputs: Obj::new(),
            archived: false,
            rest: Arc::new(Obj::new()),
            steps: vec!["Completed".to_string()].into(),
            pos: 0,
        }
    }

    #[test]
    fn pages_newest_first_and_cursors_survive_inserts() {
        let mut table = JobTable::default();
        for i in 0..5 {
            table.insert(job(&format!("j{i}"), 100 + i, i as u64));
        }
        let ids = |table: &JobTable, page: &Page| page.jobs.iter().map(|&i| table.at(i).id.clone()).collect::<Vec<_>>();
        let first = table.page(|_| true, None, 2);
        assert_eq!(ids(&table, &first), ["j4", "j3"]);
        // A newer job arriving between pages does not shift the next page.
        table.insert(job("new", 999, 9));
        let second = table.page(|_| true, first.next, 2);
        assert_eq!(ids(&table, &second), ["j2", "j1"]);
        let third = table.page(|j| j.id != "j0", second.next, 2);
        assert!(third.jobs.is_empty() && third.next.is_none());
        let filtered = table.page(|j| j.id.ends_with('1') || j.id.ends_with('3'), None, 1);
        assert_eq!(ids(&table, &filtered), ["j3"]);
        assert!(filtered.next.is_some());
    }

    #[test]
    fn cursor_tokens() {
        let token = encode_cursor((1_700_000_000_000_000_000, 42));
        assert_eq!(decode_cursor(&token), Some((1_700_000_000_000_000_000, 42)));
        for bad in ["", "j1.", "j1.zz.1", "j1.1.2.3", "x1.1.2", "100"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn steps() {
        let mut j = job("a", 0, 0);
        j.steps = vec!["NotStarted".into(), "Running".into(), "Completed".into()].into();
        j.advance();
        assert_eq!(j.status(), "Running");
        j.set_steps(vec!["Running".into(), "Failed".into()]);
        assert_eq!((j.status(), j.pos), ("Running", 0));
        j.advance();
        j.advance();
        assert_eq!(j.status(), "Failed");
        j.set_steps(vec!["Queued".into(), "Hibernating".into()]);
        assert_eq!(j.status(), "Hibernating", "a status not on the walk jumps to its end");
    }
}
