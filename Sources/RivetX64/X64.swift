/// The x86-64 assembler (being written).
package enum X64 {}
