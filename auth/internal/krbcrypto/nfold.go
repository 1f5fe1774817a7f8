package krbcrypto

// nfold stretches or folds in to outLen bytes as RFC 3961 5.1 defines
// n-fold: the input is repeated, each copy rotated 13 bits right of the
// previous one, up to the least common multiple of both lengths, and the
// outLen-byte blocks of that are added in one's-complement arithmetic.
//
// It works on whole bytes (the rotation by 13 bits is a byte rotation
// and a shift) instead of one bit at a time; derivation constants are
// folded once per usage (see usageConstant) anyway.
func nfold(in []byte, outLen int) []byte {
	inLen := len(in)
	if inLen == 0 || outLen <= 0 {
		return make([]byte, max(outLen, 0))
	}
	l := lcm(inLen, outLen)
	acc := make([]int, outLen)
	chunk := make([]byte, inLen)
	for copyN := 0; copyN*inLen < l; copyN++ {
		rotateBitsRight(chunk, in, 13*copyN)
		for i, b := range chunk {
			acc[(copyN*inLen+i)%outLen] += int(b)
		}
	}
	// Propagate carries from the least significant byte (the last) up,
	// the carry out of the top byte wrapping around to the bottom, until
	// none is left: one's-complement addition of all blocks at once.
	for {
		carry := 0
		for i := outLen - 1; i >= 0; i-- {
			v := acc[i] + carry
			acc[i], carry = v&0xff, v>>8
		}
		if carry == 0 {
			break
		}
		acc[outLen-1] += carry
	}
	out := make([]byte, outLen)
	for i, v := range acc {
		out[i] = byte(v)
	}
	return out
}

// rotateBitsRight sets dst to src, read as one big-endian bit string,
// rotated right by n bits.
func rotateBitsRight(dst, src []byte, n int) {
	l := len(src)
	n %= 8 * l
	byteShift, bitShift := n/8, uint(n%8)
	for i := range dst {
		cur := src[((i-byteShift)%l+l)%l]
		if bitShift == 0 {
			dst[i] = cur
			continue
		}
		prev := src[((i-byteShift-1)%l+l)%l]
		dst[i] = cur>>bitShift | prev<<(8-bitShift)
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }
