// Row-wise LayerNorm / RMSNorm for the norm_infer task, as a torch extension: allocation, checks and launch in
// C++, so a call costs a few microseconds of host time instead of a Python JIT launch.
//
// Each row is handled by a group of TPR threads; every thread holds up to MAXK 16-byte vectors of the row in
// registers (with its slice of weight and bias), so x is read once. Groups of <= 32 threads reduce with shuffles; wider groups (one row per block)
// reduce through shared memory. Statistics and the affine step run in fp32; y is rounded once.
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <torch/extension.h>

namespace {

constexpr int kMaxK = 8;

template <typename T> struct Vec { static constexpr int kSize = 16 / sizeof(T); };

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16(v); }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half(v); }

template <int TPR>
__device__ __forceinline__ float group_sum(float value, float* shared) {
  if constexpr (TPR <= 32) {
#pragma unroll
    for (int offset = TPR / 2; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset, TPR);
    return value;
  } else {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
    const int warp = threadIdx.x / 32;
    __syncthreads();  // the previous reduction's readers are done with `shared`
    if (threadIdx.x % 32 == 0) shared[warp] = value;
    __syncthreads();
    float total = 0.f;
#pragma unroll
    for (int w = 0; w < TPR / 32; ++w) total += shared[w];
    return total;
  }
}

template <typename T, typename P, int TPR>
__global__ void norm_rows_kernel(const T* __restrict__ x, T* __restrict__ y, const P* __restrict__ weight,
                                 const P* __restrict__ bias, int64_t rows, int n, int64_t x_stride,
                                 int64_t y_stride, float eps, bool is_rms, int vectors_per_thread) {
  constexpr int V = Vec<T>::kSize;
  __shared__ float shared[TPR > 32 ? TPR / 32 : 1];
  const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / TPR) + threadIdx.x / TPR;
  const int lane = threadIdx.x % TPR;
  const bool active = row < rows;  // inactive threads still join the reductions
  float values[kMaxK][V];
  uint4 weights[kMaxK], biases[kMaxK];  // fetched with x, so their latency overlaps the reductions
  float sum = 0.f;
#pragma unroll
  for (int k = 0; k < kMaxK; ++k) {
    const int col = (k * TPR + lane) * V;
    const bool in_row = active && k < vectors_per_thread && col < n;
    uint4 raw = make_uint4(0, 0, 0, 0);
    weights[k] = biases[k] = raw;
    if (in_row) {
      raw = *reinterpret_cast<const uint4*>(x + row * x_stride + col);
      if (weight != nullptr) weights[k] = *reinterpret_cast<const uint4*>(weight + col);
      if (bias != nullptr) biases[k] = *reinterpret_cast<const uint4*>(bias + col);
    }
    const T* lanes = reinterpret_cast<const T*>(&raw);
#pragma unroll
    for (int i = 0; i < V; ++i) {
      values[k][i] = in_row ? to_float(lanes[i]) : 0.f;
      sum += values[k][i];
    }
  }
  const float inv_n = 1.f / static_cast<float>(n);
  float mean = 0.f;
  if (!is_rms) mean = group_sum<TPR>(sum, shared) * inv_n;
  float squares = 0.f;
#pragma unroll
  for (int k = 0; k < kMaxK; ++k) {
    const int col = (k * TPR + lane) * V;
    if (k < vectors_per_thread && col < n) {
#pragma unroll
      for (int i = 0; i < V; ++i) {
        const float centred = values[k][i] - mean;
        squares += centred * centred;
      }
    }
  }
  const float rstd = rsqrtf(group_sum<TPR>(squares, shared) * inv_n + eps);
  if (!active) return;
#pragma unroll
  for (int k = 0; k < kMaxK; ++k) {
    const int col = (k * TPR + lane) * V;
    if (k >= vectors_per_thread || col >= n) continue;
    uint4 packed;
    T* lanes = reinterpret_cast<T*>(&packed);
    const P* w = reinterpret_cast<const P*>(&weights[k]);
    const P* b = reinterpret_cast<const P*>(&biases[k]);
#pragma unroll
    for (int i = 0; i < V; ++i) {
      float value = (values[k][i] - mean) * rstd;
      if (weight != nullptr) value *= to_float(w[i]);
      if (bias != nullptr) value += to_float(b[i]);
      lanes[i] = from_float<T>(value);
    }
    *reinterpret_cast<uint4*>(y + row * y_stride + col) = packed;
  }
}

template <typename T, typename P>
void launch(const at::Tensor& x, at::Tensor& y, const P* weight, const P* bias, float eps, bool is_rms, int tpr,
            int vectors_per_thread, cudaStream_t stream) {
  const int64_t rows = x.size(0);
  const int n = static_cast<int>(x.size(1));
  const int threads = tpr <= 32 ? 256 : tpr;
  const int rows_per_block = threads / tpr;
  const dim3 grid(static_cast<unsigned>((rows + rows_per_block - 1) / rows_per_block));
  const auto* xp = reinterpret_cast<const T*>(x.data_ptr());
  auto* yp = reinterpret_cast<T*>(y.data_ptr());
#define KP_LAUNCH(TPR_)                                                                                    \
  norm_rows_kernel<T, P, TPR_><<<grid, threads, 0, stream>>>(xp, yp, weight, bias, rows, n, x.stride(0),   \
                                                             y.stride(0), eps, is_rms, vectors_per_thread)
  switch (tpr) {
    case 8: KP_LAUNCH(8); break;
    case 16: KP_LAUNCH(16); break;
    case 32: KP_LAUNCH(32); break;
    case 128: KP_LAUNCH(128); break;
    default: KP_LAUNCH(256); break;
  }
#undef KP_LAUNCH
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

bool aligned16(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer) % 16 == 0; }

// Returns None when the layout is outside this kernel's contract (the caller falls back to the Triton path).
c10::optional<at::Tensor> norm_rows(const at::Tensor& x, const c10::optional<at::Tensor>& weight,
                                    const c10::optional<at::Tensor>& bias, double eps, bool is_rms,
                                    const c10::optional<at::Tensor>& out) {
  if (!x.is_cuda() || x.dim() != 2 || x.stride(1) != 1) return c10::nullopt;
  const int64_t n = x.size(1);
  const int vector = 16 / static_cast<int>(x.element_size());
  const auto dtype = x.scalar_type();
  if (n == 0 || n % vector != 0 || (x.stride(0) * x.element_size()) % 16 != 0 || !aligned16(x.data_ptr()))
    return c10::nullopt;
  const auto param_dtype = weight ? weight->scalar_type() : (bias ? bias->scalar_type() : dtype);
  for (const auto* p : {&weight, &bias}) {
    if (p->has_value() && ((**p).scalar_type() != param_dtype || !(**p).is_contiguous() || (**p).numel() != n ||
                           !aligned16((**p).data_ptr())))
      return c10::nullopt;
  }
  if (param_dtype != dtype) return c10::nullopt;
  const int64_t vectors = n / vector;
  int tpr = vectors <= 8 ? 8 : vectors <= 16 ? 16 : vectors <= 32 ? 32 : vectors <= 128 * kMaxK ? 128 : 256;
  const int per_thread = static_cast<int>((vectors + tpr - 1) / tpr);
  if (per_thread > kMaxK) return c10::nullopt;
  at::Tensor y = out ? *out : at::empty_like(x, at::MemoryFormat::Contiguous);
  if (y.sizes() != x.sizes() || y.stride(1) != 1 || y.scalar_type() != dtype || !aligned16(y.data_ptr()) ||
      (y.stride(0) * y.element_size()) % 16 != 0)
    return c10::nullopt;
  const c10::cuda::CUDAGuard guard(x.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const float epsilon = static_cast<float>(eps);
#define KP_DISPATCH(T_)                                                                                     \
  launch<T_, T_>(x, y, weight ? reinterpret_cast<const T_*>(weight->data_ptr()) : nullptr,                  \
                 bias ? reinterpret_cast<const T_*>(bias->data_ptr()) : nullptr, epsilon, is_rms, tpr,       \
                 per_thread, stream)
  if (dtype == at::kBFloat16) {
    KP_DISPATCH(__nv_bfloat16);
  } else if (dtype == at::kHalf) {
    KP_DISPATCH(__half);
  } else if (dtype == at::kFloat) {
    KP_DISPATCH(float);
  } else {
    return c10::nullopt;
  }
#undef KP_DISPATCH
  return y;
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.def("norm_rows", &norm_rows, "row-wise LayerNorm/RMSNorm; None when the layout is unsupported");
}
