use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[cast]
    fn put(&mut self, key: impl Into<String>) {
        let _ = key.into();
    }
}

fn main() {}
