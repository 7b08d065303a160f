use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[call]
    fn size() -> usize {
        0
    }
}

fn main() {}
