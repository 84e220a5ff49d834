//! Counting the answers to one campaign (a pre-vote or a real election).

/// The answers received so far, one slot per peer, plus this node's own vote.
#[derive(Clone, Debug)]
pub(crate) struct VoteTally {
    answers: Vec<Option<bool>>,
}

impl VoteTally {
    pub(crate) fn new(peers: usize) -> Self {
        VoteTally { answers: vec![None; peers] }
    }

    /// Forgets every answer: a new campaign starts.
    pub(crate) fn clear(&mut self) {
        self.answers.fill(None);
    }

    /// Records the first answer of the peer at `index`; a duplicate answer changes nothing.
    pub(crate) fn record(&mut self, index: usize, granted: bool) {
        if let Some(slot @ None) = self.answers.get_mut(index) {
            *slot = Some(granted);
        }
    }

    /// The answer of the peer at `index`, if it answered.
    #[cfg(feature = "model")]
    pub(crate) fn answer(&self, index: usize) -> Option<bool> {
        self.answers.get(index).copied().flatten()
    }

    /// Votes granted, this node's own included.
    pub(crate) fn granted(&self) -> usize {
        1 + self.answers.iter().filter(|a| **a == Some(true)).count()
    }

    /// Votes refused.
    pub(crate) fn refused(&self) -> usize {
        self.answers.iter().filter(|a| **a == Some(false)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_answers_are_counted_once() {
        let mut t = VoteTally::new(4);
        t.record(0, true);
        t.record(0, true);
        t.record(0, false);
        t.record(1, false);
        t.record(9, true);
        assert_eq!((t.granted(), t.refused()), (2, 1));
        t.clear();
        assert_eq!((t.granted(), t.refused()), (1, 0));
    }
}
