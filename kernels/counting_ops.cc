// Counting entropies of discrete codes: the C++ op behind tfib.ops.code_entropies.
//
// Counting estimators of the information bottleneck (binning, exact-quantized) reduce a
// layer to one discrete code per example: a row of an [N, D] integer matrix. With the
// empirical distribution of the N rows,
//
//   H(T)   = log2 N - (1/N) sum_t c_t log2 c_t            (c_t: rows equal to t)
//   H(T|Y) = H(T,Y) - H(Y)
//          = (1/N) (sum_y c_y log2 c_y - sum_{t,y} c_ty log2 c_ty),
//
// all in bits. The op finds equal rows in one read of the codes: each row is hashed
// (in parallel on the TensorFlow CPU thread pool) and put in an open-addressing table;
// rows are compared byte by byte (memcmp) only when their hashes are equal, so a hash
// collision costs time but can never merge two distinct rows. Labels and (row, label)
// pairs are counted with the same kind of table.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/framework/tensor.h"

namespace tfib {
namespace {

using ::tensorflow::DEVICE_CPU;
using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

// ---------------------------------------------------------------------------------------
// Hashing. A row is read as 64-bit words; four independent multiply-rotate lanes keep the
// multiplier busy, so hashing runs at memory speed. The hash only chooses where a row is
// looked up; equality is always decided by memcmp.

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;

inline uint64_t RotateLeft(uint64_t x, int bits) {
  return (x << bits) | (x >> (64 - bits));
}

inline uint64_t LoadWord(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

// One step of a lane: a bijection of `word` for a fixed `lane`, so the lane depends on
// every bit of every word it has taken in, in order.
inline uint64_t MixWord(uint64_t lane, uint64_t word) {
  return RotateLeft(lane + word * kPrime2, 31) * kPrime1;
}

// Spreads every input bit over all output bits (the low bits pick the table slot).
inline uint64_t Avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

uint64_t HashBytes(const char* data, size_t size) {
  size_t i = 0;
  uint64_t h = kPrime3 + size;
  if (size >= 32) {
    uint64_t lanes[4] = {kPrime1 + kPrime2, kPrime2, 0, kPrime1 * kPrime3};
    for (; i + 32 <= size; i += 32) {
      for (int k = 0; k < 4; ++k) lanes[k] = MixWord(lanes[k], LoadWord(data + i + 8 * k));
    }
    h = RotateLeft(lanes[0], 1) + RotateLeft(lanes[1], 7) + RotateLeft(lanes[2], 12) +
        RotateLeft(lanes[3], 18);
  }
  for (; i + 8 <= size; i += 8) h = MixWord(h, LoadWord(data + i));
  if (i < size) {
    uint64_t tail = 0;  // All rows have the same length, so zero padding is unambiguous.
    std::memcpy(&tail, data + i, size - i);
    h = MixWord(h, tail);
  }
  return Avalanche(h);
}

// ---------------------------------------------------------------------------------------
// Grouping. Puts items 0..N-1 into groups of equal items and counts each group.

class GroupCounter {
 public:
  explicit GroupCounter(int64_t num_items) {
    size_t capacity = 16;
    while (capacity < 2 * static_cast<size_t>(num_items)) capacity *= 2;
    slots_.assign(capacity, Slot{0, kEmpty, 0});
    mask_ = capacity - 1;
  }

  // Adds `item`, whose key hashes to `hash`; `equal(a, b)` tells whether items a and b have
  // equal keys. Returns the item's group: 0, 1, ... in order of first appearance.
  template <typename Equal>
  int32_t Add(uint64_t hash, int32_t item, const Equal& equal) {
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      Slot& slot = slots_[pos];
      if (slot.first_item == kEmpty) {
        slot = Slot{hash, item, static_cast<int32_t>(counts_.size())};
        counts_.push_back(1);
        return slot.group;
      }
      if (slot.hash == hash && equal(slot.first_item, item)) {
        ++counts_[slot.group];
        return slot.group;
      }
    }
  }

  int64_t num_groups() const { return counts_.size(); }

  // sum over groups of c log2 c, c the group's count.
  double SumCountLog2Count() const {
    double sum = 0.0;
    for (const int64_t c : counts_) {
      if (c > 1) sum += static_cast<double>(c) * std::log2(static_cast<double>(c));
    }
    return sum;
  }

 private:
  static constexpr int32_t kEmpty = -1;
  struct Slot {
    uint64_t hash;
    int32_t first_item;  // The item that opened the group; kEmpty for a free slot.
    int32_t group;
  };
  std::vector<Slot> slots_;
  size_t mask_;
  std::vector<int64_t> counts_;
};

// ---------------------------------------------------------------------------------------
// The ops.

absl::Status CodeEntropiesShape(InferenceContext* c) {
  ShapeHandle codes;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &codes));
  if (c->num_inputs() == 2) {
    ShapeHandle labels;
    TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &labels));
    DimensionHandle n;
    TF_RETURN_IF_ERROR(c->Merge(c->Dim(codes, 0), c->Dim(labels, 0), &n));
  }
  for (int i = 0; i < c->num_outputs(); ++i) c->set_output(i, c->Scalar());
  return absl::OkStatus();
}

REGISTER_OP("TfibCodeEntropies")
    .Input("codes: T")
    .Input("labels: int32")
    .Output("h_t: float64")
    .Output("h_t_given_y: float64")
    .Output("num_distinct: int64")
    .Attr("T: {uint8, int16, int32}")
    .SetShapeFn(CodeEntropiesShape)
    .Doc(R"doc(
Empirical entropies, in bits, of the rows of `codes` and of the rows given `labels`.

Each row of `codes` is one discrete code T; with c_t the number of rows equal to t and
c_y, c_ty the counts of labels and of (row, label) pairs:

  H(T)   = log2 N - (1/N) sum_t c_t log2 c_t
  H(T|Y) = H(T,Y) - H(Y) = (1/N) (sum_y c_y log2 c_y - sum_{t,y} c_ty log2 c_ty)

Rows are equal when all their D values are equal; hashing only speeds up the search, a
collision never merges distinct rows. Both entropies are clamped at 0 against rounding.

codes: [N, D] integer codes, N >= 1, D >= 1.
labels: [N] non-negative class labels.
h_t: H(T) in bits.
h_t_given_y: H(T|Y) in bits; I(T;Y) = h_t - h_t_given_y.
num_distinct: the number of distinct rows of `codes`.
)doc");

REGISTER_OP("TfibCodeEntropiesUnlabeled")
    .Input("codes: T")
    .Output("h_t: float64")
    .Output("num_distinct: int64")
    .Attr("T: {uint8, int16, int32}")
    .SetShapeFn(CodeEntropiesShape)
    .Doc(R"doc(
Empirical entropy, in bits, of the rows of `codes`: TfibCodeEntropies without labels.

  H(T) = log2 N - (1/N) sum_t c_t log2 c_t,  c_t the number of rows equal to t.

codes: [N, D] integer codes, N >= 1, D >= 1.
h_t: H(T) in bits.
num_distinct: the number of distinct rows of `codes`.
)doc");

// Finds the group of every row of `codes` ([N, D], N >= 1), counting rows per group in
// `by_row`. Rows are hashed in parallel, then grouped in one sequential pass.
std::vector<int32_t> GroupRows(const Tensor& codes, tsl::thread::ThreadPool* workers,
                               GroupCounter* by_row) {
  const int64_t n = codes.dim_size(0);
  const char* rows = codes.tensor_data().data();
  const size_t row_bytes = codes.tensor_data().size() / n;
  std::vector<uint64_t> hashes(n);
  const auto cost = tsl::thread::ThreadPool::SchedulingParams::Adaptive(row_bytes);
  workers->ParallelFor(n, cost, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      hashes[i] = HashBytes(rows + i * row_bytes, row_bytes);
    }
  });
  const auto rows_equal = [&](int32_t a, int32_t b) {
    return std::memcmp(rows + a * row_bytes, rows + b * row_bytes, row_bytes) == 0;
  };
  std::vector<int32_t> row_group(n);
  for (int32_t i = 0; i < n; ++i) row_group[i] = by_row->Add(hashes[i], i, rows_equal);
  return row_group;
}

// H(T|Y) in bits from each row's group and label:
//   (1/N) (sum_y c_y log2 c_y - sum_{t,y} c_ty log2 c_ty).
double ConditionalEntropyBits(const std::vector<int32_t>& row_group, const int32_t* labels) {
  const int64_t n = row_group.size();
  GroupCounter by_label(n);
  GroupCounter by_pair(n);
  const auto labels_equal = [&](int32_t a, int32_t b) { return labels[a] == labels[b]; };
  const auto pairs_equal = [&](int32_t a, int32_t b) {
    return row_group[a] == row_group[b] && labels[a] == labels[b];
  };
  for (int32_t i = 0; i < n; ++i) {
    const uint64_t label = static_cast<uint32_t>(labels[i]);
    by_label.Add(Avalanche(label), i, labels_equal);
    by_pair.Add(Avalanche((static_cast<uint64_t>(row_group[i]) << 32) | label), i,
                pairs_equal);
  }
  return std::max(0.0, (by_label.SumCountLog2Count() - by_pair.SumCountLog2Count()) / n);
}

// Computes both ops; kHasLabels selects TfibCodeEntropies over TfibCodeEntropiesUnlabeled.
// The kernel never looks at code values, only at bytes: rows are equal iff their bytes are.
template <bool kHasLabels>
class CodeEntropiesOp : public OpKernel {
 public:
  explicit CodeEntropiesOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& codes = ctx->input(0);
    OP_REQUIRES(ctx, codes.dims() == 2,
                absl::InvalidArgumentError(absl::StrCat(
                    "codes must be a matrix [N, D], got shape ", codes.shape().DebugString())));
    const int64_t n = codes.dim_size(0);
    OP_REQUIRES(ctx, n >= 1 && codes.dim_size(1) >= 1,
                absl::InvalidArgumentError(absl::StrCat(
                    "codes must have N >= 1 rows and D >= 1 columns, got shape ",
                    codes.shape().DebugString())));
    OP_REQUIRES(ctx, n <= std::numeric_limits<int32_t>::max(),
                absl::InvalidArgumentError(absl::StrCat(
                    "codes has ", n, " rows; at most 2^31 - 1 are supported")));
    const int32_t* labels = nullptr;
    if (kHasLabels) {
      const Tensor& labels_tensor = ctx->input(1);
      OP_REQUIRES(ctx, labels_tensor.dims() == 1 && labels_tensor.dim_size(0) == n,
                  absl::InvalidArgumentError(absl::StrCat(
                      "labels must be a vector [N] with N = ", n,
                      " (the rows of codes), got shape ", labels_tensor.shape().DebugString())));
      labels = labels_tensor.vec<int32_t>().data();
      const int32_t* negative =
          std::find_if(labels, labels + n, [](int32_t y) { return y < 0; });
      OP_REQUIRES(ctx, negative == labels + n,
                  absl::InvalidArgumentError(absl::StrCat(
                      "labels must be non-negative, got labels[", negative - labels,
                      "] = ", *negative)));
    }

    GroupCounter by_row(n);
    const std::vector<int32_t> row_group =
        GroupRows(codes, ctx->device()->tensorflow_cpu_worker_threads()->workers, &by_row);
    const double log2_n = std::log2(static_cast<double>(n));
    SetScalar<double>(ctx, "h_t", std::max(0.0, log2_n - by_row.SumCountLog2Count() / n));
    SetScalar<int64_t>(ctx, "num_distinct", by_row.num_groups());
    if (kHasLabels) {
      SetScalar<double>(ctx, "h_t_given_y", ConditionalEntropyBits(row_group, labels));
    }
  }

 private:
  template <typename Scalar>
  static void SetScalar(OpKernelContext* ctx, const char* name, Scalar value) {
    Tensor* output = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(name, TensorShape({}), &output));
    output->scalar<Scalar>()() = value;
  }
};

#define TFIB_REGISTER_CODE_ENTROPIES(T)                                             \
  REGISTER_KERNEL_BUILDER(                                                          \
      Name("TfibCodeEntropies").Device(DEVICE_CPU).TypeConstraint<T>("T"),          \
      CodeEntropiesOp<true>);                                                       \
  REGISTER_KERNEL_BUILDER(                                                          \
      Name("TfibCodeEntropiesUnlabeled").Device(DEVICE_CPU).TypeConstraint<T>("T"), \
      CodeEntropiesOp<false>);

TFIB_REGISTER_CODE_ENTROPIES(uint8_t);
TFIB_REGISTER_CODE_ENTROPIES(int16_t);
TFIB_REGISTER_CODE_ENTROPIES(int32_t);

#undef TFIB_REGISTER_CODE_ENTROPIES

}  // namespace
}  // namespace tfib
