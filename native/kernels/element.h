// The element types the kernels read and write, without Node-API: the binding maps typed arrays
// onto them.
#pragma once

#include <cstdint>

namespace h5stitch::kernels {

enum class Element { kInt8, kUint8, kInt16, kUint16, kInt32, kUint32, kFloat32, kFloat64 };

// Calls f(T{}) for the C++ type T of `element`, so one template serves every type.
template <typename F>
void WithElement(Element element, F&& f) {
  switch (element) {
    case Element::kInt8: return f(int8_t{});
    case Element::kUint8: return f(uint8_t{});
    case Element::kInt16: return f(int16_t{});
    case Element::kUint16: return f(uint16_t{});
    case Element::kInt32: return f(int32_t{});
    case Element::kUint32: return f(uint32_t{});
    case Element::kFloat32: return f(float{});
    case Element::kFloat64: return f(double{});
  }
}

// The bytes of one element.
inline int64_t ElementSize(Element element) {
  int64_t size = 0;
  WithElement(element, [&](auto zero) { size = sizeof zero; });
  return size;
}

}  // namespace h5stitch::kernels
