//! Dense vectors, from their file to fingerprints: [`npy`] maps `.npy` files (and holds
//! rows built in memory), [`hyperplane`] turns rows into random-hyperplane SimHash
//! fingerprints, and [`embed`] makes vectors from text with a static-embedding model
//! (Model2Vec) read from a local directory, its tokenizer and averaging reproduced exactly.

pub mod npy;
pub mod hyperplane;
pub mod embed;
