//go:build tools
package tools
import (
	_ "github.com/globalsign/est/cmd/estclient"
	_ "github.com/globalsign/est/cmd/estserver"
)
