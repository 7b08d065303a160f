//! One partition of a registry: its entries by key, and the amortised purge
//! of the entries whose owner has ended.

use std::collections::hash_map::{self, HashMap};
use std::hash::Hash;

use crate::child::ChildRef;

/// A partition holds at most this many entries before its first purge, and
/// purges again when it has grown to twice what the last purge left (or
/// this): memory stays within about twice the live entries, and a purge
/// (a pass over the partition) costs O(1) per registration, amortised.
const MIN_PURGE: usize = 64;

/// One registration: its owner (the incarnation that registered) and its
/// value.
pub(super) struct Entry<V> {
    pub(super) owner: ChildRef,
    pub(super) value: V,
}

impl<V> Entry<V> {
    /// An entry is live while its owner runs: an incarnation that exited
    /// (or never started) owns nothing.
    pub(super) fn is_live(&self) -> bool {
        !self.owner.has_exited()
    }
}

/// The entries of one key: one (a unique registry, and most keys of a
/// duplicate one) without a vector of its own.
pub(super) enum Slot<V> {
    One(Entry<V>),
    Many(Vec<Entry<V>>),
}

impl<V> Slot<V> {
    pub(super) fn entries(&self) -> &[Entry<V>] {
        match self {
            Slot::One(entry) => std::slice::from_ref(entry),
            Slot::Many(entries) => entries,
        }
    }

    fn entries_mut(&mut self) -> &mut [Entry<V>] {
        match self {
            Slot::One(entry) => std::slice::from_mut(entry),
            Slot::Many(entries) => entries,
        }
    }

    fn push(&mut self, entry: Entry<V>) {
        match self {
            Slot::Many(entries) => entries.push(entry),
            Slot::One(_) => {
                let Slot::One(first) = std::mem::replace(self, Slot::Many(Vec::with_capacity(2)))
                else {
                    unreachable!("matched above")
                };
                if let Slot::Many(entries) = self {
                    entries.push(first);
                    entries.push(entry);
                }
            }
        }
    }

    /// Keeps the entries `keep` accepts; returns how many were removed and
    /// whether any is left.
    fn retain(&mut self, mut keep: impl FnMut(&Entry<V>) -> bool) -> (usize, bool) {
        match self {
            Slot::One(entry) => {
                if keep(entry) {
                    (0, true)
                } else {
                    (1, false)
                }
            }
            Slot::Many(entries) => {
                let before = entries.len();
                entries.retain(|e| keep(e));
                (before - entries.len(), !entries.is_empty())
            }
        }
    }
}

/// A partition's table.
pub(super) struct Table<K, V> {
    pub(super) map: HashMap<K, Slot<V>>,
    /// Entries in the table, live or not.
    entries: usize,
    /// The entry count at which the next registration purges.
    purge_at: usize,
}

impl<K: Eq + Hash, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            map: HashMap::new(),
            entries: 0,
            purge_at: MIN_PURGE,
        }
    }
}

impl<K: Eq + Hash, V> Table<K, V> {
    /// The live entries of `key`.
    pub(super) fn live(&self, key: &K) -> impl Iterator<Item = &Entry<V>> {
        self.map
            .get(key)
            .map_or(&[][..], Slot::entries)
            .iter()
            .filter(|e| e.is_live())
    }

    /// The live entries of `key` owned by `owner`, to change in place.
    pub(super) fn owned_mut<'a>(
        &'a mut self,
        key: &K,
        owner: &'a ChildRef,
    ) -> impl Iterator<Item = &'a mut Entry<V>> + 'a {
        self.map
            .get_mut(key)
            .map_or(&mut [][..], Slot::entries_mut)
            .iter_mut()
            .filter(move |e| e.owner == *owner && e.is_live())
    }

    /// Removes the entries of `key` that `remove` picks, and the dead ones;
    /// returns how many `remove` picked among the live.
    pub(super) fn remove_where(
        &mut self,
        key: &K,
        mut remove: impl FnMut(&Entry<V>) -> bool,
    ) -> usize {
        let Some(slot) = self.map.get_mut(key) else {
            return 0;
        };
        let mut picked = 0;
        let (removed, left) = slot.retain(|e| {
            if !e.is_live() {
                return false;
            }
            let gone = remove(e);
            picked += usize::from(gone);
            !gone
        });
        self.entries -= removed;
        if !left {
            self.map.remove(key);
        }
        picked
    }

    /// Adds `entry` under `key`: after the dead entries of `key` are
    /// dropped, a unique registry refuses a key that still has one (and
    /// returns its owner). One lookup of the key.
    pub(super) fn insert(&mut self, key: K, entry: Entry<V>, unique: bool) -> Result<(), ChildRef> {
        match self.map.entry(key) {
            hash_map::Entry::Occupied(mut taken) => {
                let slot = taken.get_mut();
                let (removed, left) = slot.retain(Entry::is_live);
                self.entries -= removed;
                if !left {
                    *slot = Slot::One(entry);
                } else if unique {
                    return Err(slot.entries()[0].owner.clone());
                } else {
                    slot.push(entry);
                }
            }
            hash_map::Entry::Vacant(free) => {
                free.insert(Slot::One(entry));
            }
        }
        self.entries += 1;
        if self.entries >= self.purge_at {
            self.purge();
        }
        Ok(())
    }

    /// Drops every dead entry, and sets the next purge at twice what is
    /// left.
    pub(super) fn purge(&mut self) {
        let mut removed = 0;
        self.map.retain(|_, slot| {
            let (gone, left) = slot.retain(Entry::is_live);
            removed += gone;
            left
        });
        self.entries -= removed;
        self.purge_at = (self.entries * 2).max(MIN_PURGE);
        if self.map.capacity() > 4 * self.map.len().max(MIN_PURGE) {
            self.map.shrink_to_fit();
        }
    }

    /// Entries held, live or not (for the tests of the purge).
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.entries
    }
}
