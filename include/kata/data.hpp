// kata/data.hpp: kata's data side, nnabla's nnabla.utils.data_iterator in namespace kata::data:
// DataIterator over a DataSource (memory, load_func, files), RandomState (numpy's permutation), the IDX
// reader and the Fashion-MNIST source. See docs/data.md.
#pragma once
#include "data/random_state.hpp"
#include "data/data_source.hpp"
#include "data/data_iterator.hpp"
#include "data/gzip.hpp"
#include "data/idx.hpp"
#include "data/fashion_mnist.hpp"
