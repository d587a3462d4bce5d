// The index of tier 2's optimization passes: each one in its own file beside this one, with a
// header saying what it assumes and preserves. `Pipeline.tier2` is the order tier 2 runs them
// in (after dynarmic's ir/opt/passes.h).

/// An optimization pass.
public enum Pass: String, CaseIterable, Sendable {
    /// ConstantFolding.swift
    case constfold
    /// CopyPropagation.swift
    case copyprop
    /// DeadCodeElimination.swift
    case dce
    /// GlobalValueNumbering.swift
    case gvn
    /// BlockMerging.swift
    case blockmerge
    /// StateForwarding.swift
    case stateforward
    /// LoopInvariantCodeMotion.swift
    case licm
    /// Simplify.swift
    case simplify
    /// FloatForms.swift
    case floatforms

    /// Runs the pass on `f`.
    public func run(_ f: inout Function) {
        switch self {
        case .constfold: ConstantFolding.run(&f)
        case .copyprop: CopyPropagation.run(&f)
        case .dce: DeadCodeElimination.run(&f)
        case .gvn: GlobalValueNumbering.run(&f)
        case .blockmerge: BlockMerging.run(&f)
        case .stateforward: StateForwarding.run(&f)
        case .licm: LoopInvariantCodeMotion.run(&f)
        case .simplify: Simplify.run(&f)
        case .floatforms: FloatForms.run(&f)
        }
    }
}

/// Pass orders.
public enum Pipeline {
    /// Tier 2's pipeline. State forwarding is followed by copyprop and dce, which remove the
    /// trivial block parameters it may add and the values it leaves unused, and by constfold
    /// and blockmerge: a return whose link register the region set is now a comparison of
    /// constants, and takes one way (RegionFrontend's returns); constfold again on the merged
    /// blocks (a single boxed before a call or return and checked after it: `fclass.s` in
    /// glibc's `fmaxf`), then simplify again (a branch on a boolean that crossed blocks in a
    /// guest register); LICM by gvn and dce,
    /// which merge what it hoisted side by side from several blocks (slot reads, constants,
    /// addresses) and remove the copies. Float forms come last, on the values that are left,
    /// followed by copyprop (a `bitcast.f64` of what is now a `bitcast.i64`) and dce.
    public static let tier2: [Pass] = [
        .constfold, .simplify, .copyprop, .dce, .gvn, .blockmerge, .stateforward, .copyprop, .constfold,
        .blockmerge, .constfold, .simplify, .dce, .licm, .gvn, .floatforms, .copyprop, .dce,
    ]
}

/// Runs passes, verifying the function after each one when asked (always in tests; by default
/// in debug builds).
public struct PassManager {
    /// Whether to run the verifier after each pass.
    public var verifyEachPass: Bool

    /// A pass manager; `verifyEachPass` defaults to on in debug builds, off in release.
    public init(verifyEachPass: Bool? = nil) {
        var debug = false
        assert({ debug = true; return true }())
        self.verifyEachPass = verifyEachPass ?? debug
    }

    /// A pass left the function malformed.
    public struct Failure: Error, CustomStringConvertible {
        /// The pass that ran last.
        public var pass: Pass
        /// The verifier's complaints.
        public var error: VerifierError
        /// The function as the pass left it, in text form.
        public var function: String
        public var description: String { "after \(pass.rawValue):\n\(error)\n\(function)" }
    }

    /// Runs `passes` in order on `f`.
    /// - Throws: `Failure` if verification is on and a pass broke the function.
    public func run(_ passes: [Pass], on f: inout Function) throws(Failure) {
        for pass in passes {
            pass.run(&f)
            if verifyEachPass {
                do { try Verifier.verify(f) } catch { throw Failure(pass: pass, error: error, function: f.text) }
            }
        }
    }
}
