package auth_test

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/edgegw/edgegw/mqttcore/auth"
)

func Example() {
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	access, _ := auth.ParseAccess("read")
	a, err := auth.New(false,
		[]auth.User{{Username: "app", PasswordHash: string(hash)}},
		[]auth.Rule{
			{Username: "app", Topic: "sensors/#", Access: access},
			{Topic: "clients/%c/#", Access: auth.ReadWrite},
		})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%#x\n", byte(a.Authenticate("app", []byte("s3cret"), true, true)))
	fmt.Printf("%#x\n", byte(a.Authenticate("app", []byte("guess"), true, true)))
	fmt.Printf("%#x\n", byte(a.Authenticate("", nil, false, false)))
	fmt.Println(a.CanSubscribe("dash-1", "app", "sensors/+/temperature"))
	fmt.Println(a.CanSubscribe("dash-1", "app", "#"))       // granted: sensors/… is readable
	fmt.Println(a.CanSubscribe("dash-1", "app", "other/#")) // nothing readable there
	fmt.Println(a.CanRead("dash-1", "app", "sensors/kitchen/temperature"))
	fmt.Println(a.CanRead("dash-1", "app", "other/x")) // filtered out of "#" at delivery
	fmt.Println(a.CanPublish("dash-1", "app", "clients/dash-1/status"))
	fmt.Println(a.CanPublish("dash-1", "app", "clients/other/status"))
	// Output:
	// 0x0
	// 0x4
	// 0x5
	// true
	// true
	// false
	// true
	// false
	// true
	// false
}
