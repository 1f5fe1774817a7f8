package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// goBench is one benchmark's results over the runs of go test -count.
type goBench struct {
	name   string
	values map[string][]float64 // unit -> one value per run
}

// parseGoBench reads go test -bench output: lines "BenchmarkX-2  N  v unit
// v unit ...", in the order of first appearance. The -GOMAXPROCS suffix is
// dropped.
func parseGoBench(out []byte) []goBench {
	var list []goBench
	index := map[string]int{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		i, ok := index[name]
		if !ok {
			i = len(list)
			index[name] = i
			list = append(list, goBench{name: name, values: map[string][]float64{}})
		}
		for j := 2; j+1 < len(f); j += 2 {
			if v, err := strconv.ParseFloat(f[j], 64); err == nil {
				list[i].values[f[j+1]] = append(list[i].values[f[j+1]], v)
			}
		}
	}
	return list
}

func (b *goBench) median(unit string) float64 {
	v := slices.Clone(b.values[unit])
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (b *goBench) col(unit string) string {
	if len(b.values[unit]) == 0 {
		return ""
	}
	v := b.median(unit)
	switch {
	case unit == "MB/s":
		return fmt.Sprintf("%.1f", v)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func findBench(list []goBench, name string) *goBench {
	for i := range list {
		if list[i].name == name {
			return &list[i]
		}
	}
	return nil
}
