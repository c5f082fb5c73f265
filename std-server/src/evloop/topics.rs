//! The loop's topics: who is in which, kept beside the connections (an idle connection in no
//! topic costs nothing here, and `Peer` stays the size the idle benchmark measures), and the
//! backpressure policy of each.
//!
//! A topic's policy is configuration, not membership: it is set when the loop is built
//! ([`super::AppLoop::with_topic_policy`]) and kept for the loop's life, whether the topic has
//! members or not (a topic is made by its first subscribe and forgotten when its last member
//! leaves; its policy must not be forgotten with it, or a ticker whose members all reconnect
//! would come back on the default). Only the application adds entries, so no peer can grow the
//! table.

use super::app::ConnId;
use crate::room::RoomPolicy;
use std::collections::HashMap;

/// One member of a topic.
#[derive(Debug)]
pub(super) struct Member {
    pub(super) conn: ConnId,
    /// Since when (ms) its backlog has been above the policy's soft limit.
    pub(super) over_since: Option<u64>,
}

/// Every topic of one loop, every connection's topics, and the topics' policies.
#[derive(Debug, Default)]
pub(super) struct Topics {
    /// The policy of every topic not in `policies`.
    pub(super) default_policy: RoomPolicy,
    /// The topics given a policy of their own.
    policies: HashMap<Box<str>, RoomPolicy>,
    rooms: HashMap<Box<str>, Vec<Member>>,
    /// The topics of each connection (by slot) that is in any.
    joined: HashMap<usize, Vec<Box<str>>>,
}

impl Topics {
    /// Gives `topic` a policy of its own (replacing one it had).
    pub(super) fn set_policy(&mut self, topic: &str, policy: RoomPolicy) {
        self.policies.insert(topic.into(), policy);
    }

    /// The policy that judges the members of `topic`: one hash per publish, and none while no
    /// topic has a policy of its own.
    pub(super) fn policy(&self, topic: &str) -> RoomPolicy {
        if self.policies.is_empty() {
            return self.default_policy;
        }
        self.policies
            .get(topic)
            .copied()
            .unwrap_or(self.default_policy)
    }

    /// Adds `conn` to `topic`; `false` if it is a member already.
    pub(super) fn subscribe(&mut self, conn: ConnId, topic: &str) -> bool {
        let mine = self.joined.entry(conn.key).or_default();
        if mine.iter().any(|t| &**t == topic) {
            return false;
        }
        mine.push(topic.into());
        self.rooms.entry(topic.into()).or_default().push(Member {
            conn,
            over_since: None,
        });
        true
    }

    /// Removes `conn` from `topic`; whether it was a member.
    pub(super) fn unsubscribe(&mut self, conn: ConnId, topic: &str) -> bool {
        let Some(mine) = self.joined.get_mut(&conn.key) else {
            return false;
        };
        let Some(at) = mine.iter().position(|t| &**t == topic) else {
            return false;
        };
        mine.swap_remove(at);
        if mine.is_empty() {
            self.joined.remove(&conn.key);
        }
        self.drop_member(topic, conn.key);
        true
    }

    /// Removes the connection in slot `key` from every topic.
    pub(super) fn leave_all(&mut self, key: usize) {
        for topic in self.joined.remove(&key).unwrap_or_default() {
            self.drop_member(&topic, key);
        }
    }

    fn drop_member(&mut self, topic: &str, key: usize) {
        if let Some(members) = self.rooms.get_mut(topic) {
            members.retain(|m| m.conn.key != key);
            if members.is_empty() {
                self.rooms.remove(topic);
            }
        }
    }

    /// How many members `topic` has.
    pub(super) fn len(&self, topic: &str) -> usize {
        self.rooms.get(topic).map_or(0, Vec::len)
    }

    /// The members of `topic`, taken out while a publish walks them (give them back with
    /// [`Topics::put_back`]).
    pub(super) fn take(&mut self, topic: &str) -> Option<(Box<str>, Vec<Member>)> {
        self.rooms.remove_entry(topic)
    }

    /// Ends a publish: the members that stayed go back; `left` (slots) no longer list `topic`.
    pub(super) fn put_back(&mut self, topic: Box<str>, members: Vec<Member>, left: &[usize]) {
        for key in left {
            if let Some(mine) = self.joined.get_mut(key) {
                mine.retain(|t| *t != topic);
                if mine.is_empty() {
                    self.joined.remove(key);
                }
            }
        }
        if !members.is_empty() {
            self.rooms.insert(topic, members);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(key: usize) -> ConnId {
        ConnId {
            key,
            id: key as u64 + 100,
        }
    }

    #[test]
    fn a_connection_in_many_topics_leaves_all_of_them() {
        let mut t = Topics::default();
        assert!(t.subscribe(conn(1), "a"));
        assert!(!t.subscribe(conn(1), "a"));
        assert!(t.subscribe(conn(1), "b"));
        assert!(t.subscribe(conn(2), "a"));
        assert_eq!((t.len("a"), t.len("b")), (2, 1));
        t.leave_all(1);
        assert_eq!((t.len("a"), t.len("b")), (1, 0));
        assert!(!t.unsubscribe(conn(1), "a"));
        assert!(t.unsubscribe(conn(2), "a"));
        assert_eq!(t.len("a"), 0);
        assert!(t.joined.is_empty() && t.rooms.is_empty());
    }

    #[test]
    fn a_topic_keeps_its_policy_with_no_members_and_the_others_use_the_default() {
        let tight = RoomPolicy {
            hard_limit: 64 << 10,
            ..RoomPolicy::DEFAULT
        };
        let mut t = Topics {
            default_policy: RoomPolicy {
                backlog: 1,
                ..RoomPolicy::DEFAULT
            },
            ..Topics::default()
        };
        assert_eq!(t.policy("ticker"), t.default_policy);
        t.set_policy("ticker", tight);
        assert_eq!(t.policy("ticker"), tight);
        assert_eq!(t.policy("chat"), t.default_policy);
        // Members come and go; the topic's policy stays.
        assert!(t.subscribe(conn(1), "ticker"));
        assert!(t.unsubscribe(conn(1), "ticker"));
        assert!(t.rooms.is_empty());
        assert_eq!(t.policy("ticker"), tight);
    }
}
