// Replays a recorded call plan: the launches a Python wrapper made for one argument signature, issued again from
// C++ with only the data pointers read anew. Built by kernelpilot.replay.native (torch's extension loader).
//
// A call's key is everything the wrapper's decisions can depend on: each argument's type and value (tensors:
// dtype, device, sizes, strides and 16-byte alignment, the one pointer property Triton specializes on) and the
// current device. The first call with a key goes to the Python planner, which runs the wrapper and returns its
// result with a plan (or None when the call cannot be replayed); later calls with that key replay the plan.
#include <torch/extension.h>
#include <torch/csrc/autograd/python_variable.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda.h>
#include <dlfcn.h>
#include <structmember.h>

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using LaunchKernelEx = CUresult (*)(const CUlaunchConfig*, CUfunction, void**, void**);
using GetErrorString = CUresult (*)(CUresult, const char**);

struct Driver {
  LaunchKernelEx launch = nullptr;
  GetErrorString error_string = nullptr;
};

const Driver& driver() {
  static Driver loaded = [] {
    Driver d;
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) lib = dlopen("libcuda.so.1", RTLD_NOW);
    if (lib) {
      d.launch = reinterpret_cast<LaunchKernelEx>(dlsym(lib, "cuLaunchKernelEx"));
      d.error_string = reinterpret_cast<GetErrorString>(dlsym(lib, "cuGetErrorString"));
    }
    return d;
  }();
  return loaded;
}

enum ParamKind { kConstant = 0, kInput = 1, kOutput = 2, kScratch = 3 };
enum ResultKind { kNone = 0, kSingle = 1, kTuple = 2 };  // and a returned item's kind: kConstant (None), kInput
                                                         // or kOutput
constexpr int kMaxParams = 62;  // with the two scratch pointers Triton appends
constexpr int kMaxTensors = 16;

struct Param {
  int kind;
  int index;
  int64_t value;  // the constant's bits, or the byte offset from the tensor's data pointer
};

struct Launch {
  CUfunction function;
  unsigned grid[3];
  unsigned threads;
  unsigned shared;
  bool pdl;
  std::vector<Param> params;
};

struct Allocation {
  std::vector<int64_t> sizes, strides;
  at::TensorOptions options;
  bool zeroed;  // the wrapper made it with torch.zeros
};

at::Tensor allocate(const Allocation& a) {
  at::Tensor t = at::empty_strided(a.sizes, a.strides, a.options);
  return a.zeroed ? t.zero_() : t;
}

struct Plan {
  std::vector<Allocation> outputs;
  std::vector<Allocation> scratch;
  std::vector<Launch> launches;
  int result_kind = kNone;
  std::vector<std::pair<int, int>> result;  // (kConstant for None, kInput or kOutput; index)
};

struct KeyHash {
  size_t operator()(const std::vector<int64_t>& key) const {
    uint64_t h = 1469598103934665603ull;
    for (int64_t v : key) h = (h ^ static_cast<uint64_t>(v)) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

constexpr size_t kMaxPlans = 4096;
bool python_path_only = false;  // every entry calls its wrapper (kernelpilot.replay.python_path_only)

struct EntryObject {
  PyObject_HEAD
  PyObject* wrapper;  // the Python path, called for what cannot be keyed or replayed
  PyObject* planner;  // planner(wrapper, args) -> (result, plan or None)
  std::unordered_map<std::vector<int64_t>, std::unique_ptr<Plan>, KeyHash>* plans;
  std::unordered_map<std::string, int64_t>* strings;  // each string argument seen, numbered for the key
  long long replays;
};

std::vector<int64_t> ints_of(PyObject* sequence) {
  std::vector<int64_t> out;
  PyObject* fast = PySequence_Fast(sequence, "expected a sequence of ints");
  if (!fast) throw std::runtime_error("plan: expected a sequence of ints");
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  for (Py_ssize_t i = 0; i < n; ++i) out.push_back(PyLong_AsLongLong(PySequence_Fast_GET_ITEM(fast, i)));
  Py_DECREF(fast);
  if (PyErr_Occurred()) throw std::runtime_error("plan: expected ints");
  return out;
}

// Plans arrive as plain tuples (kernelpilot.replay.recipe.Plan.as_native): parsed once, on the planning call.
std::unique_ptr<Plan> parse_plan(PyObject* obj) {
  namespace py = pybind11;
  py::tuple t = py::reinterpret_borrow<py::tuple>(obj);
  auto plan = std::make_unique<Plan>();
  for (py::handle out : py::reinterpret_borrow<py::list>(t[0])) {
    py::tuple o = py::reinterpret_borrow<py::tuple>(out);
    const at::Tensor& example = THPVariable_Unpack(o[0].ptr());
    plan->outputs.push_back({example.sizes().vec(), example.strides().vec(), example.options(), o[1].cast<bool>()});
  }
  for (py::handle scratch : py::reinterpret_borrow<py::list>(t[1])) {
    py::tuple s = py::reinterpret_borrow<py::tuple>(scratch);
    const at::Tensor& like = THPVariable_Unpack(s[1].ptr());
    plan->scratch.push_back({{s[0].cast<int64_t>()}, {1}, like.options().dtype(at::kByte), s[2].cast<bool>()});
  }
  for (py::handle item : py::reinterpret_borrow<py::list>(t[2])) {
    py::tuple l = py::reinterpret_borrow<py::tuple>(item);
    Launch launch;
    launch.function = reinterpret_cast<CUfunction>(l[0].cast<uintptr_t>());
    std::vector<int64_t> grid = ints_of(l[1].ptr());
    for (int i = 0; i < 3; ++i) launch.grid[i] = static_cast<unsigned>(grid.at(i));
    launch.threads = l[2].cast<unsigned>();
    launch.shared = l[3].cast<unsigned>();
    launch.pdl = l[4].cast<bool>();
    for (py::handle p : py::reinterpret_borrow<py::list>(l[5])) {
      py::tuple pt = py::reinterpret_borrow<py::tuple>(p);
      launch.params.push_back({pt[0].cast<int>(), pt[1].cast<int>(), pt[2].cast<int64_t>()});
    }
    if (launch.params.size() > kMaxParams) throw std::runtime_error("plan: too many kernel parameters");
    plan->launches.push_back(std::move(launch));
  }
  py::tuple result = py::reinterpret_borrow<py::tuple>(t[3]);
  plan->result_kind = result[0].cast<int>();
  for (py::handle r : py::reinterpret_borrow<py::list>(result[1])) {
    py::tuple rt = py::reinterpret_borrow<py::tuple>(r);
    plan->result.emplace_back(rt[0].cast<int>(), rt[1].cast<int>());
  }
  if (plan->outputs.size() > kMaxTensors || plan->scratch.size() > kMaxTensors)
    throw std::runtime_error("plan: too many allocations");
  return plan;
}

// The call's key, and each tensor argument's data pointer (0 for other arguments). False: not keyable.
bool make_key(EntryObject* self, PyObject* args, std::vector<int64_t>& key, uint64_t* pointers) {
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  if (n > kMaxTensors * 2) return false;
  key.push_back(c10::cuda::current_device());
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* a = PyTuple_GET_ITEM(args, i);
    pointers[i] = 0;
    if (a == Py_None) {
      key.push_back(0);
    } else if (PyBool_Check(a)) {
      key.push_back(a == Py_True ? 11 : 10);
    } else if (PyLong_CheckExact(a)) {
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(a, &overflow);
      if (overflow) return false;
      key.push_back(2);
      key.push_back(v);
    } else if (PyFloat_CheckExact(a)) {
      double v = PyFloat_AS_DOUBLE(a);
      int64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      key.push_back(3);
      key.push_back(bits);
    } else if (PyUnicode_CheckExact(a)) {
      Py_ssize_t size = 0;
      const char* text = PyUnicode_AsUTF8AndSize(a, &size);
      if (!text) {
        PyErr_Clear();
        return false;
      }
      auto id = self->strings->emplace(std::string(text, size), static_cast<int64_t>(self->strings->size()));
      key.push_back(5);
      key.push_back(id.first->second);
    } else if (THPVariable_Check(a)) {
      const at::Tensor& t = THPVariable_Unpack(a);
      const uint64_t ptr = reinterpret_cast<uint64_t>(t.data_ptr());
      pointers[i] = ptr;
      key.push_back(4);
      key.push_back(static_cast<int64_t>(t.scalar_type()));
      key.push_back(static_cast<int64_t>(t.device().type()) * 256 + t.device().index());
      key.push_back(t.dim());
      for (int64_t s : t.sizes()) key.push_back(s);
      for (int64_t s : t.strides()) key.push_back(s);
      key.push_back(static_cast<int64_t>(ptr & 15) == 0);
    } else {
      return false;
    }
  }
  return true;
}

PyObject* replay(EntryObject* self, const Plan& plan, PyObject* args, const uint64_t* inputs) {
  at::Tensor outputs[kMaxTensors], scratch[kMaxTensors];
  uint64_t output_ptrs[kMaxTensors], scratch_ptrs[kMaxTensors];
  for (size_t k = 0; k < plan.outputs.size(); ++k) {
    outputs[k] = allocate(plan.outputs[k]);
    output_ptrs[k] = reinterpret_cast<uint64_t>(outputs[k].data_ptr());
  }
  for (size_t k = 0; k < plan.scratch.size(); ++k) {
    scratch[k] = allocate(plan.scratch[k]);
    scratch_ptrs[k] = reinterpret_cast<uint64_t>(scratch[k].data_ptr());
  }
  const Driver& cu = driver();
  if (!cu.launch) {
    PyErr_SetString(PyExc_RuntimeError, "kernelpilot replay: cuLaunchKernelEx not found in libcuda.so.1");
    return nullptr;
  }
  CUstream stream = c10::cuda::getCurrentCUDAStream().stream();
  uint64_t slots[kMaxParams + 2];
  void* params[kMaxParams + 2];
  for (const Launch& launch : plan.launches) {
    const size_t n = launch.params.size();
    for (size_t i = 0; i < n; ++i) {
      const Param& p = launch.params[i];
      switch (p.kind) {
        case kInput: slots[i] = inputs[p.index] + p.value; break;
        case kOutput: slots[i] = output_ptrs[p.index] + p.value; break;
        case kScratch: slots[i] = scratch_ptrs[p.index] + p.value; break;
        default: slots[i] = static_cast<uint64_t>(p.value);
      }
      params[i] = &slots[i];  // little-endian: a narrower constant is read from the slot's low bytes
    }
    slots[n] = slots[n + 1] = 0;  // Triton's global and profile scratch: plans are made only without them
    params[n] = &slots[n];
    params[n + 1] = &slots[n + 1];
    CUlaunchAttribute attribute;
    attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config;
    std::memset(&config, 0, sizeof config);
    config.gridDimX = launch.grid[0];
    config.gridDimY = launch.grid[1];
    config.gridDimZ = launch.grid[2];
    config.blockDimX = launch.threads;
    config.blockDimY = config.blockDimZ = 1;
    config.sharedMemBytes = launch.shared;
    config.hStream = stream;
    config.attrs = launch.pdl ? &attribute : nullptr;
    config.numAttrs = launch.pdl ? 1 : 0;
    CUresult status = cu.launch(&config, launch.function, params, nullptr);
    if (status != CUDA_SUCCESS) {
      const char* message = "unknown error";
      if (cu.error_string) cu.error_string(status, &message);
      PyErr_Format(PyExc_RuntimeError, "kernelpilot replay: cuLaunchKernelEx failed: %s", message);
      return nullptr;
    }
  }
  self->replays += 1;
  auto item = [&](const std::pair<int, int>& r) -> PyObject* {
    if (r.first == kConstant) Py_RETURN_NONE;
    if (r.first == kInput) {
      PyObject* obj = PyTuple_GET_ITEM(args, r.second);
      Py_INCREF(obj);
      return obj;
    }
    return THPVariable_Wrap(outputs[r.second]);
  };
  if (plan.result_kind == kNone) Py_RETURN_NONE;
  if (plan.result_kind == kSingle) return item(plan.result[0]);
  PyObject* tuple = PyTuple_New(static_cast<Py_ssize_t>(plan.result.size()));
  if (!tuple) return nullptr;
  for (size_t i = 0; i < plan.result.size(); ++i) {
    PyObject* obj = item(plan.result[i]);
    if (!obj) {
      Py_DECREF(tuple);
      return nullptr;
    }
    PyTuple_SET_ITEM(tuple, static_cast<Py_ssize_t>(i), obj);
  }
  return tuple;
}

PyObject* plan_and_call(EntryObject* self, PyObject* args, std::vector<int64_t>&& key) {
  PyObject* pair = PyObject_CallFunctionObjArgs(self->planner, self->wrapper, args, nullptr);
  if (!pair) return nullptr;
  if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
    Py_DECREF(pair);
    PyErr_SetString(PyExc_TypeError, "kernelpilot replay: the planner must return (result, plan)");
    return nullptr;
  }
  PyObject* result = PyTuple_GET_ITEM(pair, 0);
  PyObject* plan_obj = PyTuple_GET_ITEM(pair, 1);
  Py_INCREF(result);
  if (self->plans->size() < kMaxPlans) {
    try {
      (*self->plans)[std::move(key)] = plan_obj == Py_None ? nullptr : parse_plan(plan_obj);
    } catch (const std::exception& e) {
      Py_DECREF(pair);
      Py_DECREF(result);
      PyErr_Format(PyExc_RuntimeError, "kernelpilot replay: bad plan: %s", e.what());
      return nullptr;
    }
  }
  Py_DECREF(pair);
  return result;
}

PyObject* entry_call(PyObject* obj, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<EntryObject*>(obj);
  if (python_path_only || (kwargs && PyDict_GET_SIZE(kwargs) > 0)) return PyObject_Call(self->wrapper, args, kwargs);
  try {
    std::vector<int64_t> key;
    key.reserve(64);
    uint64_t pointers[kMaxTensors * 2];
    if (!make_key(self, args, key, pointers)) return PyObject_Call(self->wrapper, args, nullptr);
    auto found = self->plans->find(key);
    if (found == self->plans->end()) return plan_and_call(self, args, std::move(key));
    if (!found->second) return PyObject_Call(self->wrapper, args, nullptr);
    return replay(self, *found->second, args, pointers);
  } catch (const std::exception& e) {
    PyErr_Format(PyExc_RuntimeError, "kernelpilot replay: %s", e.what());
    return nullptr;
  }
}

int entry_init(PyObject* obj, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<EntryObject*>(obj);
  PyObject *wrapper, *planner;
  if (!PyArg_ParseTuple(args, "OO", &wrapper, &planner)) return -1;
  Py_INCREF(wrapper);
  Py_INCREF(planner);
  Py_XSETREF(self->wrapper, wrapper);
  Py_XSETREF(self->planner, planner);
  if (!self->plans) self->plans = new std::unordered_map<std::vector<int64_t>, std::unique_ptr<Plan>, KeyHash>();
  if (!self->strings) self->strings = new std::unordered_map<std::string, int64_t>();
  return 0;
}

void entry_dealloc(PyObject* obj) {
  auto* self = reinterpret_cast<EntryObject*>(obj);
  Py_XDECREF(self->wrapper);
  Py_XDECREF(self->planner);
  delete self->plans;
  delete self->strings;
  Py_TYPE(obj)->tp_free(obj);
}

PyObject* entry_stats(PyObject* obj, PyObject*) {
  auto* self = reinterpret_cast<EntryObject*>(obj);
  long long replayable = 0;
  for (const auto& kv : *self->plans) replayable += kv.second != nullptr;
  return Py_BuildValue("{s:L,s:L,s:L}", "keys", static_cast<long long>(self->plans->size()), "replayable",
                       replayable, "replays", self->replays);
}

PyMemberDef entry_members[] = {
    {"wrapper", T_OBJECT_EX, offsetof(EntryObject, wrapper), READONLY, "the Python path"},
    {nullptr, 0, 0, 0, nullptr}};

PyMethodDef entry_methods[] = {
    {"stats", entry_stats, METH_NOARGS, "keys seen, keys with a plan, calls replayed"},
    {nullptr, nullptr, 0, nullptr}};

PyTypeObject EntryType = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "kp_replay.Entry";
  t.tp_basicsize = sizeof(EntryObject);
  t.tp_flags = Py_TPFLAGS_DEFAULT;
  t.tp_doc = "Entry(wrapper, planner): calls wrapper's recorded launches again from C++ for a known key";
  t.tp_new = PyType_GenericNew;
  t.tp_init = entry_init;
  t.tp_dealloc = entry_dealloc;
  t.tp_call = entry_call;
  t.tp_methods = entry_methods;
  t.tp_members = entry_members;
  return t;
}();

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  if (PyType_Ready(&EntryType) < 0) throw pybind11::error_already_set();
  Py_INCREF(&EntryType);
  module.add_object("Entry", reinterpret_cast<PyObject*>(&EntryType));
  module.def("set_python_path_only", [](bool on) { python_path_only = on; });
}
