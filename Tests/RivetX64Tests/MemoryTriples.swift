import RivetX64

/// Memory operand encodings: every ModRM/SIB special case.
/// Each triple: instruction, bytes, objdump Intel text (checked against GNU objdump).
let memoryTriples: [X64Triple] = [
    // Memory operand encodings, shown on a 64-bit load.
    X64Triple(.mov(.b64, .rax, .at(.rax)), "48 8b 00", "mov rax,QWORD PTR [rax]"),
    X64Triple(.mov(.b64, .rax, .at(.rsp)), "48 8b 04 24", "mov rax,QWORD PTR [rsp]"),
    X64Triple(.mov(.b64, .rax, .at(.rbp)), "48 8b 45 00", "mov rax,QWORD PTR [rbp+0x0]"),
    X64Triple(.mov(.b64, .rax, .at(.r12)), "49 8b 04 24", "mov rax,QWORD PTR [r12]"),
    X64Triple(.mov(.b64, .rax, .at(.r13)), "49 8b 45 00", "mov rax,QWORD PTR [r13+0x0]"),
    X64Triple(.mov(.b64, .rax, .at(.rsp, 8)), "48 8b 44 24 08", "mov rax,QWORD PTR [rsp+0x8]"),
    X64Triple(.mov(.b64, .rax, .at(.r12, 8)), "49 8b 44 24 08", "mov rax,QWORD PTR [r12+0x8]"),
    X64Triple(.mov(.b64, .rax, .at(.rbp, -8)), "48 8b 45 f8", "mov rax,QWORD PTR [rbp-0x8]"),
    X64Triple(.mov(.b64, .rax, .at(.r13, 0x100)), "49 8b 85 00 01 00 00", "mov rax,QWORD PTR [r13+0x100]"),
    X64Triple(.mov(.b64, .rax, .at(.rax, 127)), "48 8b 40 7f", "mov rax,QWORD PTR [rax+0x7f]"),
    X64Triple(.mov(.b64, .rax, .at(.rax, -128)), "48 8b 40 80", "mov rax,QWORD PTR [rax-0x80]"),
    X64Triple(.mov(.b64, .rax, .at(.rax, 128)), "48 8b 80 80 00 00 00", "mov rax,QWORD PTR [rax+0x80]"),
    X64Triple(.mov(.b64, .rax, .at(.rax, Int32.max)), "48 8b 80 ff ff ff 7f", "mov rax,QWORD PTR [rax+0x7fffffff]"),
    X64Triple(.mov(.b64, .rax, .at(.rax, Int32.min)), "48 8b 80 00 00 00 80", "mov rax,QWORD PTR [rax-0x80000000]"),
    X64Triple(.mov(.b64, .rax, .at(.rax, index: .rbx)), "48 8b 04 18", "mov rax,QWORD PTR [rax+rbx*1]"),
    X64Triple(.mov(.b64, .rax, .at(.rsp, index: .rax, scale: .x2)), "48 8b 04 44", "mov rax,QWORD PTR [rsp+rax*2]"),
    X64Triple(.mov(.b64, .rax, .at(.rbp, index: .rax, scale: .x4)), "48 8b 44 85 00", "mov rax,QWORD PTR [rbp+rax*4+0x0]"),
    X64Triple(.mov(.b64, .rax, .at(.r13, index: .r12, scale: .x8)), "4b 8b 44 e5 00", "mov rax,QWORD PTR [r13+r12*8+0x0]"),
    X64Triple(.mov(.b64, .r8, .at(.r12, index: .r13, scale: .x8, -8)), "4f 8b 44 ec f8", "mov r8,QWORD PTR [r12+r13*8-0x8]"),
    X64Triple(.mov(.b64, .rax, .at(.rax, index: .r12)), "4a 8b 04 20", "mov rax,QWORD PTR [rax+r12*1]"),
    X64Triple(.mov(.b64, .rax, .at(.r15, index: .r15, scale: .x8, 0x1000)), "4b 8b 84 ff 00 10 00 00", "mov rax,QWORD PTR [r15+r15*8+0x1000]"),
    X64Triple(.mov(.b64, .rax, .at(index: .rax, scale: .x4)), "48 8b 04 85 00 00 00 00", "mov rax,QWORD PTR [rax*4+0x0]"),
    X64Triple(.mov(.b64, .rax, .at(index: .r9, scale: .x8, 0x10)), "4a 8b 04 cd 10 00 00 00", "mov rax,QWORD PTR [r9*8+0x10]"),
    X64Triple(.mov(.b64, .rax, .at(index: .rbp, scale: .x1, -16)), "48 8b 04 2d f0 ff ff ff", "mov rax,QWORD PTR [rbp*1-0x10]"),
    X64Triple(.mov(.b64, .rax, .rip(0x10)), "48 8b 05 10 00 00 00", "mov rax,QWORD PTR [rip+0x10] # 0x17"),
    X64Triple(.mov(.b64, .rax, .rip(-16)), "48 8b 05 f0 ff ff ff", "mov rax,QWORD PTR [rip+0xfffffffffffffff0] # 0xfffffffffffffff7"),
    X64Triple(.mov(.b64, .rax, .absolute(0x1234)), "48 8b 04 25 34 12 00 00", "mov rax,QWORD PTR ds:0x1234"),
    X64Triple(.mov(.b32, .rax, .absolute(Int32.min)), "8b 04 25 00 00 00 80", "mov eax,DWORD PTR ds:0xffffffff80000000"),
    X64Triple(.mov(.b64, .rax, X64Memory.at(.rax).withDisplacementWidth(.byte)), "48 8b 40 00", "mov rax,QWORD PTR [rax+0x0]"),
    X64Triple(.mov(.b64, .rax, X64Memory.at(.rax).withDisplacementWidth(.dword)), "48 8b 80 00 00 00 00", "mov rax,QWORD PTR [rax+0x0]"),
    X64Triple(.mov(.b64, .rax, X64Memory.at(.rsp, 8).withDisplacementWidth(.dword)), "48 8b 84 24 08 00 00 00", "mov rax,QWORD PTR [rsp+0x8]"),
    X64Triple(.mov(.b64, .rax, X64Memory.at(.rbx, index: .rcx, scale: .x2, 4).withDisplacementWidth(.dword)), "48 8b 84 4b 04 00 00 00", "mov rax,QWORD PTR [rbx+rcx*2+0x4]"),
]
