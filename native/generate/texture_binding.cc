// renderTile(out, [height, width], look): the Node-API face of texture.h. `out` is any numeric
// typed array; integer arrays get round(base + value·scale) clamped to [0, max].
#include "generate/texture_binding.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/args.h"
#include "common/errors.h"
#include "generate/texture.h"

namespace h5stitch::gen {
namespace {

double NumberField(Napi::Env env, const Napi::Object& o, const char* name, double fallback) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) ThrowTypeError(env, "a finite number", name, v);
  return v.As<Napi::Number>().DoubleValue();
}

template <typename T>
void Store(const std::vector<double>& values, void* out, double scale, double base, double max) {
  T* o = static_cast<T*>(out);
  for (size_t i = 0; i < values.size(); i++) o[i] = static_cast<T>(std::clamp(std::floor(base + values[i] * scale + 0.5), 0.0, max));
}

Napi::Value RenderTileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsNumericArray(info[0])) ThrowTypeError(env, "a numeric typed array (not BigInt)", "out", info[0]);
  auto out = info[0].As<Napi::TypedArray>();
  auto shape = DimsOption<int>(env, info[1], "shape", false);
  if (shape.size() != 2 || static_cast<size_t>(shape[0]) * shape[1] != out.ElementLength()) {
    ThrowWithCode(env, kCodeRange, "out has " + std::to_string(out.ElementLength()) + " elements, which is not the product of its [height, width] shape");
  }
  Napi::Object o = OptionsArg(info, 2, "look");
  TileLook look;
  look.y = NumberField(env, o, "y", 0);
  look.x = NumberField(env, o, "x", 0);
  look.seed = static_cast<uint32_t>(IntegerField(env, o, "seed"));
  look.blank = BoolOption(env, o, "blank", false);
  look.gradientY = NumberField(env, o, "gradientY", 0);
  look.gradientX = NumberField(env, o, "gradientX", 0);
  look.gain = NumberField(env, o, "gain", 1);
  look.noise = NumberField(env, o, "noise", 0);
  look.noiseSeed = static_cast<uint64_t>(IntegerField(env, o, "noiseSeed"));
  const double scale = NumberField(env, o, "scale", 1), base = NumberField(env, o, "base", 0), max = NumberField(env, o, "max", 65535);
  std::vector<double> values(out.ElementLength());
  RenderTile(look, shape[0], shape[1], values.data());
  void* data = DataOf(out);
  switch (out.TypedArrayType()) {
    case napi_int8_array: Store<int8_t>(values, data, scale, base, max); break;
    case napi_uint8_array: Store<uint8_t>(values, data, scale, base, max); break;
    case napi_int16_array: Store<int16_t>(values, data, scale, base, max); break;
    case napi_uint16_array: Store<uint16_t>(values, data, scale, base, max); break;
    case napi_int32_array: Store<int32_t>(values, data, scale, base, max); break;
    case napi_uint32_array: Store<uint32_t>(values, data, scale, base, max); break;
    case napi_float32_array: std::copy(values.begin(), values.end(), static_cast<float*>(data)); break;
    default: std::copy(values.begin(), values.end(), static_cast<double*>(data)); break;
  }
  return out;
}

Napi::Value TextureAtJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) ThrowTypeError(env, "numbers y, x", "textureAt", info[0]);
  const uint32_t seed = static_cast<uint32_t>(SafeInteger(env, info[2], "an integer", "seed", info[2]));
  return Napi::Number::New(env, TextureAt(info[0].As<Napi::Number>().DoubleValue(), info[1].As<Napi::Number>().DoubleValue(), seed));
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("renderTile", Napi::Function::New(env, RenderTileJs, "renderTile"));
  exports.Set("textureAt", Napi::Function::New(env, TextureAtJs, "textureAt"));
}

}  // namespace h5stitch::gen
